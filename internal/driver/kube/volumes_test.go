package kube_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestVolumeClaims checks the claims volumes become, on client-go's fake clientset: name,
// labels, size, storage class and access mode; IDs that are no DNS label (agents' workspaces,
// ws-agt_…) get a claim of their own; listing and deleting.
func TestVolumeClaims(t *testing.T) {
	d, c := fakeDriver(t, kube.Config{StorageClass: "fast", VolumeAccessMode: corev1.ReadWriteMany, VolumeDefaultMB: 512})
	ctx := context.Background()
	ids := []string{"ws1", "ws-agt_abc", "WS-agt-abc", "ws-agt-abc"}
	for i, id := range ids {
		if err := d.CreateVolume(ctx, sandbox.Volume{ID: id, SizeMB: int64(i * 100), Labels: map[string]string{"paddock.agent": "a"}}); err != nil {
			t.Fatalf("create volume %s: %v", id, err)
		}
	}
	wantClass(t, "second create", d.CreateVolume(ctx, sandbox.Volume{ID: "ws1"}), errdefs.ErrAlreadyExists)
	for _, bad := range []string{"", "-x", "a/b", "x.", string(make([]byte, 64))} {
		wantClass(t, "create of volume "+bad, d.CreateVolume(ctx, sandbox.Volume{ID: bad}), errdefs.ErrInvalidArgument)
	}
	claims, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(claims.Items) != len(ids) {
		t.Fatalf("claims = %d, %v; want one per volume", len(claims.Items), err)
	}
	byID := map[string]corev1.PersistentVolumeClaim{}
	for _, pvc := range claims.Items {
		byID[pvc.Labels["paddock.volume.id"]] = pvc
		if pvc.Labels["app.kubernetes.io/managed-by"] != "paddock" || *pvc.Spec.StorageClassName != "fast" ||
			!slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
			t.Errorf("claim %s: labels %v, class %v, modes %v", pvc.Name, pvc.Labels, *pvc.Spec.StorageClassName, pvc.Spec.AccessModes)
		}
	}
	if byID["ws1"].Name != "paddock-vol-ws1" || byID["ws-agt-abc"].Name != "paddock-vol-ws-agt-abc" ||
		byID["ws-agt_abc"].Name == byID["WS-agt-abc"].Name || len(byID) != len(ids) {
		t.Errorf("claim names: %v", byID)
	}
	for id, want := range map[string]string{"ws1": "512Mi", "ws-agt_abc": "100Mi", "ws-agt-abc": "300Mi"} {
		if got := byID[id].Spec.Resources.Requests[corev1.ResourceStorage]; got.String() != want {
			t.Errorf("volume %s requests %s, want %s", id, got.String(), want)
		}
	}
	list, err := d.ListVolumes(ctx)
	if err != nil || len(list) != len(ids) || list[0].ID != "WS-agt-abc" || list[3].ID != "ws1" || list[3].SizeMB != 512 ||
		list[3].Labels["paddock.agent"] != "a" {
		t.Errorf("ListVolumes = %+v, %v", list, err)
	}
	for _, id := range ids {
		if err := d.DeleteVolume(ctx, id); err != nil {
			t.Errorf("delete volume %s: %v", id, err)
		}
	}
	if err := d.DeleteVolume(ctx, "ws1"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if list, err := d.ListVolumes(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListVolumes after deletes = %+v, %v", list, err)
	}
}

// TestVolumePod checks the pod of a unit with mounts: a volume per claim however often it is
// mounted, mounts in order with their sub-paths and read-only flags, fsGroup for a sandbox
// that is not root; and what is refused (paths, the guest's directory, a running unit's
// mounts are tested on the cluster).
func TestVolumePod(t *testing.T) {
	d, c := fakeDriver(t, kube.Config{})
	ctx := context.Background()
	for _, id := range []string{"ws", "shared"} {
		if err := d.CreateVolume(ctx, sandbox.Volume{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	spec := drivertest.NewSpec(t, sandbox.Image{})
	spec.Security.UID, spec.Security.GID = 1000, 1001
	spec.Mounts = []sandbox.Mount{{Volume: "ws", Destination: "/workspace", ReadOnly: true},
		{Volume: "ws", SubPath: "out", Destination: "/workspace/out"},
		{Volume: "shared", Destination: "/workspace/shared-in", ReadOnly: true}}
	p := createAndBuild(t, d, c, spec)
	claims := map[string]string{}
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	if len(claims) != 2 {
		t.Errorf("pod volumes %+v, want one per claim", p.Spec.Volumes)
	}
	var got []corev1.VolumeMount
	for _, m := range p.Spec.Containers[0].VolumeMounts {
		if claims[m.Name] != "" {
			m.Name = claims[m.Name]
			got = append(got, m)
		}
	}
	want := []corev1.VolumeMount{{Name: "paddock-vol-ws", MountPath: "/workspace", ReadOnly: true},
		{Name: "paddock-vol-ws", MountPath: "/workspace/out", SubPath: "out"},
		{Name: "paddock-vol-shared", MountPath: "/workspace/shared-in", ReadOnly: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mounts = %+v\nwant %+v", got, want)
	}
	var makeDirs []corev1.VolumeMount
	for _, m := range p.Spec.InitContainers[0].VolumeMounts {
		if claims[m.Name] != "" {
			m.Name = claims[m.Name]
			makeDirs = append(makeDirs, m)
		}
	}
	wantDirs := []corev1.VolumeMount{{Name: "paddock-vol-ws", MountPath: "/.paddock/mountpoints/1", SubPath: "out", ReadOnly: true},
		{Name: "paddock-vol-ws", MountPath: "/.paddock/mountpoints/2", SubPath: "shared-in", ReadOnly: true}}
	if !reflect.DeepEqual(makeDirs, wantDirs) {
		t.Errorf("init container's mounts that make mount points in the read-only workspace = %+v\nwant %+v", makeDirs, wantDirs)
	}
	if sc := p.Spec.SecurityContext; sc == nil || *sc.FSGroup != 1001 || *sc.FSGroupChangePolicy != corev1.FSGroupChangeOnRootMismatch {
		t.Errorf("pod security context = %+v, want fsGroup 1001", sc)
	}
	wantClass(t, "delete of a mounted volume", d.DeleteVolume(ctx, "shared"), errdefs.ErrFailedPrecondition)

	if err := d.SetMounts(ctx, spec.ID, []sandbox.Mount{{Volume: "ws", Destination: "/home/user"}}); err != nil {
		t.Fatal(err)
	}
	p, err := kube.BuildPod(ctx, d, spec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m := p.Spec.Containers[0].VolumeMounts; m[len(m)-1].MountPath != "/home/user" {
		t.Errorf("mounts after SetMounts: %+v", m)
	}
	if err := d.DeleteVolume(ctx, "shared"); err != nil {
		t.Errorf("delete of a volume no longer mounted: %v", err)
	}

	other := drivertest.NewSpec(t, sandbox.Image{})
	for what, mounts := range map[string][]sandbox.Mount{
		"the guest's directory": {{Volume: "ws", Destination: "/.paddock/bin"}},
		"a relative path":       {{Volume: "ws", Destination: "work"}},
		"one path twice":        {{Volume: "ws", Destination: "/w"}, {Volume: "ws", SubPath: "x", Destination: "/w"}},
	} {
		other.Mounts = mounts
		wantClass(t, "create with a mount at "+what, d.Create(ctx, other), errdefs.ErrInvalidArgument)
	}
	other.Mounts = []sandbox.Mount{{Volume: "ws", Destination: "/w"}}
	other.Security.UID = 0
	p = createAndBuild(t, d, c, other)
	if p.Spec.SecurityContext != nil {
		t.Errorf("a root sandbox's pod has a security context: %+v", p.Spec.SecurityContext)
	}
}

// TestStuckOnClaims: a pod the scheduler cannot place fails its start at once, but one whose
// claim an Immediate storage class has not bound yet (provisioning) is waited for.
func TestStuckOnClaims(t *testing.T) {
	unschedulable := func(msg string) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg}}}}
	}
	if why := kube.Stuck(unschedulable("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available")); why != "" {
		t.Errorf("a pod waiting for its claim to be provisioned is stuck: %q", why)
	}
	if why := kube.Stuck(unschedulable("0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.")); !strings.Contains(why, "volumes") {
		t.Errorf("a pod no volume can be bound for: %q, want it stuck, saying why", why)
	}
}
