package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// A volume is a PersistentVolumeClaim named from its ID (volumeName), labelled
// app.kubernetes.io/managed-by=paddock and labelVolumeID=<id>, holding the sandbox.Volume as
// JSON in annVolume. The cluster's storage class provisions (or binds) its PersistentVolume;
// pods mount the claim, so what is on it survives the pods: stop/start and other sandboxes.

var _ sandbox.VolumeManager = (*Driver)(nil)

const (
	// labelVolumeID holds a volume's ID on its claim.
	labelVolumeID = "paddock.volume.id"
	// annVolume holds the sandbox.Volume as JSON on its claim.
	annVolume = "paddock.dev/volume"
	// DefaultVolumeMB is the size of a volume made with SizeMB 0, as with runc: 10 GiB.
	DefaultVolumeMB = 10240
)

// volumeSelector matches the driver's claims.
var volumeSelector = selector + "," + labelVolumeID

// volumeName is the claim of volume id: its ID when that is a DNS label already, else the ID
// made one (lowercase, '-' for other characters) and a hash of the ID, so that IDs differing
// only in case or punctuation get distinct claims.
func volumeName(id string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, id)
	if clean == id {
		return "paddock-vol-" + id
	}
	sum := sha256.Sum256([]byte(id))
	return "paddock-vol-" + clean + "-" + hex.EncodeToString(sum[:4])
}

// validVolumeID: a label value (it labels the claim), not empty.
func validVolumeID(id string) bool {
	return id != "" && len(validation.IsValidLabelValue(id)) == 0
}

// CreateVolume implements sandbox.VolumeManager: a claim of SizeMB MiB (DefaultVolumeMB for
// 0) of the configured storage class and access mode. It does not wait for the claim to be
// bound: storage classes that bind at first use (WaitForFirstConsumer) bind it when a pod
// mounting it is scheduled.
func (d *Driver) CreateVolume(ctx context.Context, v sandbox.Volume) error {
	if !validVolumeID(v.ID) {
		return errdefs.InvalidArgument("invalid volume ID %q: want 1-63 of [A-Za-z0-9_.-], starting and ending with a letter or digit", v.ID)
	}
	if v.SizeMB < 0 {
		return errdefs.InvalidArgument("volume size %d MiB is negative", v.SizeMB)
	}
	if v.SizeMB == 0 {
		v.SizeMB = d.cfg.VolumeDefaultMB
	}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: volumeName(v.ID), Namespace: d.ns,
			Labels:      map[string]string{labelManagedBy: managedBy, labelVolumeID: v.ID},
			Annotations: map[string]string{annVolume: string(body)}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{d.cfg.VolumeAccessMode},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: *resource.NewQuantity(v.SizeMB<<20, resource.BinarySI)}},
		},
	}
	if d.cfg.StorageClass != "" {
		class := d.cfg.StorageClass
		pvc.Spec.StorageClassName = &class
	}
	if _, err := d.c.CoreV1().PersistentVolumeClaims(d.ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return errdefs.AlreadyExists("volume %s already exists", v.ID)
		}
		return d.apiError("create volume "+v.ID, err)
	}
	return nil
}

// DeleteVolume implements sandbox.VolumeManager: refused while a unit's record mounts the
// volume; otherwise the claim is deleted, and DeleteVolume waits until it is gone (its
// storage class's reclaim policy decides what becomes of the data).
func (d *Driver) DeleteVolume(ctx context.Context, id string) error {
	if !validVolumeID(id) {
		return nil
	}
	d.volMu.Lock()
	defer d.volMu.Unlock()
	users, err := d.unitsMounting(ctx, id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errdefs.FailedPrecondition("volume %s is mounted by sandbox %s", id, strings.Join(users, ", "))
	}
	claims := d.c.CoreV1().PersistentVolumeClaims(d.ns)
	err = claims.Delete(ctx, volumeName(id), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return d.apiError("delete volume "+id, err)
	}
	// The claim lingers while its protection finalizer waits for pods that used it to go.
	wait, cancel := context.WithTimeout(ctx, d.cfg.ReadyTimeout)
	defer cancel()
	for {
		_, err := claims.Get(wait, volumeName(id), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if wait.Err() != nil {
			return errdefs.Hide(errdefs.ErrUnavailable, "delete volume "+id+": its claim did not go away", err)
		}
		if err := sleep(wait, pollInterval); err != nil {
			return errdefs.Hide(errdefs.ErrUnavailable, "delete volume "+id+": its claim did not go away", err)
		}
	}
}

// unitsMounting returns the IDs of the units whose records mount volume id.
func (d *Driver) unitsMounting(ctx context.Context, id string) ([]string, error) {
	secrets, err := d.c.CoreV1().Secrets(d.ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, d.apiError("delete volume "+id, err)
	}
	var out []string
	for i := range secrets.Items {
		rec, err := parseRecord(&secrets.Items[i])
		if err != nil {
			continue // an unreadable record mounts nothing Start could rebuild
		}
		if slices.ContainsFunc(rec.spec.Mounts, func(m sandbox.Mount) bool { return m.Volume == id }) {
			out = append(out, rec.spec.ID)
		}
	}
	return out, nil
}

// ListVolumes implements sandbox.VolumeManager: every claim of the driver, but those being
// deleted, sorted by ID.
func (d *Driver) ListVolumes(ctx context.Context) ([]sandbox.Volume, error) {
	list, err := d.c.CoreV1().PersistentVolumeClaims(d.ns).List(ctx, metav1.ListOptions{LabelSelector: volumeSelector})
	if err != nil {
		return nil, d.apiError("list volumes", err)
	}
	out := make([]sandbox.Volume, 0, len(list.Items))
	for _, pvc := range list.Items {
		if pvc.DeletionTimestamp != nil {
			continue
		}
		v := sandbox.Volume{}
		_ = json.Unmarshal([]byte(pvc.Annotations[annVolume]), &v) // unreadable: listed by its ID alone
		v.ID = pvc.Labels[labelVolumeID]
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b sandbox.Volume) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// SetMounts implements sandbox.VolumeManager: the unit's record gets mounts, for the pod of
// its next Start (a pod's volumes cannot change).
func (d *Driver) SetMounts(ctx context.Context, id string, mounts []sandbox.Mount) error {
	rec, err := d.record(ctx, id)
	if err != nil {
		return err
	}
	p, err := d.c.CoreV1().Pods(d.ns).Get(ctx, objectName(id), metav1.GetOptions{})
	if err == nil && alive(p) {
		return errdefs.FailedPrecondition("sandbox %s is running: stop it to change its mounts", id)
	} else if err != nil && !apierrors.IsNotFound(err) {
		return d.apiError("set mounts of "+id, err)
	}
	d.volMu.RLock()
	defer d.volMu.RUnlock()
	rec.spec.Mounts = append([]sandbox.Mount(nil), mounts...)
	if err := d.checkSpec(ctx, rec.spec); err != nil {
		return err
	}
	body, err := json.Marshal(rec.spec)
	if err != nil {
		return err
	}
	rec.secret.Annotations[annInstance] = string(body)
	if _, err := d.c.CoreV1().Secrets(d.ns).Update(ctx, rec.secret, metav1.UpdateOptions{}); err != nil {
		return d.apiError("set mounts of "+id, err)
	}
	return nil
}

// checkMounts refuses mounts whose paths are not clean, that hide the guest, or whose volume
// does not exist. The kubelet resolves a SubPath beneath the volume and creates what is
// missing; it refuses, at Start, one whose symlinks lead out of the volume.
func (d *Driver) checkMounts(ctx context.Context, mounts []sandbox.Mount) error {
	for i, m := range mounts {
		switch {
		case !path.IsAbs(m.Destination) || path.Clean(m.Destination) != m.Destination || m.Destination == "/":
			return errdefs.InvalidArgument("mounts[%d]: destination %q must be a clean absolute path other than /", i, m.Destination)
		case m.Destination == "/.paddock" || strings.HasPrefix(m.Destination, "/.paddock/"):
			return errdefs.InvalidArgument("mounts[%d]: destination %q would hide the guest", i, m.Destination)
		case m.SubPath != "" && (path.IsAbs(m.SubPath) || path.Clean(m.SubPath) != m.SubPath || m.SubPath == ".." ||
			strings.HasPrefix(m.SubPath, "../")):
			return errdefs.InvalidArgument("mounts[%d]: sub_path %q must be a clean relative path inside the volume", i, m.SubPath)
		}
	}
	seen := map[string]bool{}
	for _, m := range mounts {
		if seen[m.Volume] {
			continue
		}
		seen[m.Volume] = true
		if err := d.volumeExists(ctx, m.Volume); err != nil {
			return err
		}
	}
	return nil
}

// volumeExists is nil when volume id's claim exists and is not being deleted.
func (d *Driver) volumeExists(ctx context.Context, id string) error {
	if !validVolumeID(id) {
		return errdefs.NotFound("volume %q not found", id)
	}
	pvc, err := d.c.CoreV1().PersistentVolumeClaims(d.ns).Get(ctx, volumeName(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) || err == nil && pvc.DeletionTimestamp != nil {
		return errdefs.NotFound("volume %s not found", id)
	} else if err != nil {
		return d.apiError("read volume "+id, err)
	}
	return nil
}

// podMounts are what a unit's mounts become in its pod: the pod volumes (one per distinct
// volume, each its claim), the sandbox container's mounts in the spec's order (the container
// runtime mounts a parent before what lies beneath it), and mounts for the init container
// whose only purpose is the kubelet's creating of their sub-paths: the mount points of mounts
// that lie inside a read-only one, which the container runtime cannot make there.
type podMounts struct {
	volumes  []corev1.Volume
	mounts   []corev1.VolumeMount
	makeDirs []corev1.VolumeMount
}

// mountPointsDir is where the init container mounts the directories made for makeDirs.
const mountPointsDir = "/.paddock/mountpoints"

func mountVolumes(spec sandbox.InstanceSpec) podMounts {
	var pm podMounts
	names := map[string]string{}
	for j, m := range spec.Mounts {
		name, ok := names[m.Volume]
		if !ok {
			name = "vol-" + strconv.Itoa(len(names))
			names[m.Volume] = name
			pm.volumes = append(pm.volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: volumeName(m.Volume)}}})
		}
		pm.mounts = append(pm.mounts, corev1.VolumeMount{Name: name, MountPath: m.Destination, SubPath: m.SubPath, ReadOnly: m.ReadOnly})
		if i := parentMount(spec.Mounts[:j], m.Destination); i >= 0 && spec.Mounts[i].ReadOnly {
			parent := spec.Mounts[i]
			rel := strings.TrimPrefix(m.Destination, parent.Destination+"/")
			pm.makeDirs = append(pm.makeDirs, corev1.VolumeMount{Name: names[parent.Volume],
				MountPath: mountPointsDir + "/" + strconv.Itoa(j), SubPath: path.Join(parent.SubPath, rel), ReadOnly: true})
		}
	}
	return pm
}

// parentMount is the index of the innermost of mounts whose destination holds dest, or -1.
func parentMount(mounts []sandbox.Mount, dest string) int {
	best := -1
	for i, m := range mounts {
		if strings.HasPrefix(dest, m.Destination+"/") && (best < 0 || len(m.Destination) >= len(mounts[best].Destination)) {
			best = i
		}
	}
	return best
}

// volumeWaitMessage is part of the scheduler's message about a pod whose claims a storage
// class that binds at once (Immediate) has not bound yet: provisioning takes a while, so such
// a pod is waited for rather than failed (ready.go).
const volumeWaitMessage = "unbound immediate PersistentVolumeClaims"

// CheckVolumeAccessMode is nil for the access modes a volume may have.
func CheckVolumeAccessMode(mode string) error {
	switch corev1.PersistentVolumeAccessMode(mode) {
	case corev1.ReadWriteOnce, corev1.ReadWriteMany, corev1.ReadWriteOncePod:
		return nil
	}
	return fmt.Errorf("%q: use ReadWriteOnce, ReadWriteOncePod or ReadWriteMany", mode)
}

// ValidStorageClass reports whether name can name a StorageClass.
func ValidStorageClass(name string) bool { return len(validation.IsDNS1123Subdomain(name)) == 0 }
