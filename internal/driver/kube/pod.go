package kube

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

// guestBinMB is what the guest binary's emptyDir may hold, counted on top of DiskMB in the
// pod's ephemeral-storage limit (the kubelet adds emptyDirs to the writable layers).
const guestBinMB = 256

// objectLabels are the labels of a unit's objects: the spec's labels that are valid label
// keys and values (all of them stay in the record), then the ID and managed-by.
func objectLabels(spec sandbox.InstanceSpec) map[string]string {
	out := map[string]string{}
	for k, v := range spec.Labels {
		if len(validation.IsQualifiedName(k)) == 0 && len(validation.IsValidLabelValue(v)) == 0 {
			out[k] = v
		}
	}
	out[sandbox.LabelID] = spec.ID
	out[labelManagedBy] = managedBy
	return out
}

// image is the pod image of spec: its reference, or the base image for "base" and "".
func (d *Driver) image(spec sandbox.InstanceSpec) string {
	if spec.Image.Ref == "" || spec.Image.Ref == "base" {
		return d.cfg.BaseImage
	}
	return spec.Image.Ref
}

// pod builds the unit's pod, owned by its record.
func (d *Driver) pod(rec *record) (*corev1.Pod, error) {
	spec := rec.spec
	sec, err := d.securityContext(spec.Security)
	if err != nil {
		return nil, err
	}
	res, err := d.resources(spec)
	if err != nil {
		return nil, err
	}
	no := false
	grace := int64(0)
	port := strconv.Itoa(d.cfg.Port)
	volumes, mounts, makeDirs, err := d.volumes(spec)
	if err != nil {
		return nil, err
	}
	place := d.placement(spec)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: objectName(spec.ID), Namespace: d.ns, Labels: objectLabels(spec),
			OwnerReferences: ownedBy(rec.secret)},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			Hostname:                      spec.Hostname,
			TerminationGracePeriodSeconds: &grace,
			NodeSelector:                  place.NodeSelector,
			Tolerations:                   place.Tolerations,
			Volumes:                       volumes,
			InitContainers: []corev1.Container{{
				Name: initName, Image: d.cfg.GuestImage, ImagePullPolicy: d.cfg.PullPolicy,
				Command:         []string{"/paddock", "guest", "--copy-to", guestDir + "/paddock"},
				VolumeMounts:    append([]corev1.VolumeMount{{Name: "guest", MountPath: guestDir}}, makeDirs...),
				SecurityContext: initSecurity(), Resources: initResources(),
			}},
			Containers: []corev1.Container{{
				Name: containerName, Image: d.image(spec), ImagePullPolicy: d.cfg.PullPolicy,
				Command: []string{guestDir + "/paddock", "guest", "--listen", ":" + port},
				Env: []corev1.EnvVar{
					{Name: guestproto.DefaultUIDEnv, Value: strconv.FormatUint(uint64(spec.Security.UID), 10)},
					{Name: guestproto.TokenEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: rec.secret.Name}, Key: tokenKey}}},
				},
				Ports:           []corev1.ContainerPort{{Name: "guest", ContainerPort: int32(d.cfg.Port)}},
				VolumeMounts:    mounts,
				SecurityContext: sec,
				Resources:       res,
			}},
		},
	}
	if len(spec.Mounts) > 0 && spec.Security.UID != 0 {
		// Volumes whose type supports it are made the group's, so that a sandbox that is not
		// root can write what another one left; the kubelet changes only a volume whose root
		// is not the group's yet.
		gid, policy := int64(spec.Security.GID), corev1.FSGroupChangeOnRootMismatch
		p.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: &gid, FSGroupChangePolicy: &policy}
	}
	if place.RuntimeClassName != "" {
		rc := place.RuntimeClassName
		p.Spec.RuntimeClassName = &rc
	}
	if spec.Hostname != "" && len(validation.IsDNS1123Label(spec.Hostname)) != 0 {
		return nil, errdefs.InvalidArgument("hostname %q is not a DNS label, which a pod's hostname must be", spec.Hostname)
	}
	return p, nil
}

// volumes are the guest's emptyDir, with a read-only root /tmp, and the spec's mounts
// (volumes.go), with the init container's mounts that make mount points; two mounts at one
// path are an invalid argument.
func (d *Driver) volumes(spec sandbox.InstanceSpec) (vols []corev1.Volume, mounts, makeDirs []corev1.VolumeMount, err error) {
	binSize := resource.MustParse(strconv.Itoa(guestBinMB) + "Mi")
	vols = []corev1.Volume{{Name: "guest", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &binSize}}}}
	mounts = []corev1.VolumeMount{{Name: "guest", MountPath: guestDir, ReadOnly: true}}
	if spec.Security.ReadOnlyRoot && spec.Security.TmpSizeMB > 0 {
		size := resource.MustParse(strconv.FormatInt(spec.Security.TmpSizeMB, 10) + "Mi")
		vols = append(vols, corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	}
	pm := mountVolumes(spec)
	seen := map[string]bool{}
	for _, m := range mounts {
		seen[m.MountPath] = true
	}
	for _, m := range pm.mounts {
		if seen[m.MountPath] {
			return nil, nil, nil, errdefs.InvalidArgument("mount destination %s is taken (mounted twice, or the sandbox's own /tmp)", m.MountPath)
		}
		seen[m.MountPath] = true
	}
	return append(vols, pm.volumes...), append(mounts, pm.mounts...), pm.makeDirs, nil
}

// resources maps VCPUs, MemoryMB and DiskMB to limits, and requests to RequestPercent of
// them. Pids have no per-pod setting (see PidsUnenforced).
func (d *Driver) resources(spec sandbox.InstanceSpec) (corev1.ResourceRequirements, error) {
	r := spec.Resources
	limits, requests := corev1.ResourceList{}, corev1.ResourceList{}
	pct := int64(d.cfg.RequestPercent)
	if r.VCPUs > 0 {
		milli := int64(r.VCPUs*1000 + 0.5)
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(milli, resource.DecimalSI)
		requests[corev1.ResourceCPU] = *resource.NewMilliQuantity(max(1, milli*pct/100), resource.DecimalSI)
	}
	if r.MemoryMB > 0 {
		b := r.MemoryMB << 20
		limits[corev1.ResourceMemory] = *resource.NewQuantity(b, resource.BinarySI)
		requests[corev1.ResourceMemory] = *resource.NewQuantity(b*pct/100, resource.BinarySI)
	}
	disk := r.DiskMB
	if spec.Security.ReadOnlyRoot {
		disk = spec.Security.TmpSizeMB // the writable layer is read-only: only /tmp and the guest grow
	}
	if r.DiskMB > 0 || spec.Security.ReadOnlyRoot {
		limits[corev1.ResourceEphemeralStorage] = *resource.NewQuantity((disk+guestBinMB)<<20, resource.BinarySI)
	}
	return corev1.ResourceRequirements{Limits: limits, Requests: requests}, nil
}

// securityContext maps the resolved security profile.
func (d *Driver) securityContext(s sandbox.Security) (*corev1.SecurityContext, error) {
	caps := make([]corev1.Capability, 0, len(s.Capabilities))
	for _, c := range s.Capabilities {
		if !strings.HasPrefix(c, "CAP_") {
			return nil, errdefs.InvalidArgument("capability %q: want a name such as CAP_CHOWN", c)
		}
		caps = append(caps, corev1.Capability(strings.TrimPrefix(c, "CAP_")))
	}
	uid, gid := int64(s.UID), int64(s.GID)
	no, ro := false, s.ReadOnlyRoot
	nonRoot := uid != 0
	seccomp := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	if d.cfg.SeccompProfile != "" {
		p := d.cfg.SeccompProfile
		seccomp = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &p}
	}
	sc := &corev1.SecurityContext{
		RunAsUser: &uid, RunAsGroup: &gid, AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &ro,
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: caps},
		SeccompProfile: seccomp,
	}
	if nonRoot {
		sc.RunAsNonRoot = &nonRoot
	}
	return sc, nil
}

// initSecurity confines the container that copies the guest: nobody, no capabilities.
func initSecurity() *corev1.SecurityContext {
	uid, no, yes := int64(65534), false, true
	return &corev1.SecurityContext{RunAsUser: &uid, RunAsGroup: &uid, RunAsNonRoot: &yes, AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem: &yes, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
}

// initResources let the copy of the guest (about 120 MB) run at full speed, since a pod
// waits for it, while asking the scheduler for little.
func initResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
	}
}

// ownedBy makes an object go with the unit's record.
func ownedBy(s *corev1.Secret) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Secret", Name: s.Name, UID: s.UID}}
}

// CheckDiskLimit implements sandbox.DiskLimiter: DiskMB becomes the container's
// ephemeral-storage limit, which the kubelet enforces by evicting the pod once it is past it
// (writes do not fail first, as with runc's disk images).
func (d *Driver) CheckDiskLimit(spec sandbox.InstanceSpec) error { return nil }
