package drivertest

import (
	"context"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// testVolumes checks the VolumeManager contract, for drivers that implement it: volume IDs
// are taken until deleted, deleting twice is nil, a unit (running or not) that mounts a volume
// keeps it from deletion, mounts of unknown volumes are not found, unclean paths are invalid
// arguments, and a running unit's mounts cannot change.
func testVolumes(t *testing.T, newDriver Factory) {
	d, img := newDriver(t)
	vm, ok := d.(sandbox.VolumeManager)
	if !ok {
		t.Skipf("the %s driver keeps no volumes", d.Name())
	}
	ctx := context.Background()
	vol := Volume(t, vm, 0)
	wantClass(t, "second create of a volume", vm.CreateVolume(ctx, sandbox.Volume{ID: vol}), errdefs.ErrAlreadyExists)
	if list, err := vm.ListVolumes(ctx); err != nil || !hasVolume(list, vol) {
		t.Errorf("ListVolumes = %+v, %v; want %s in it", list, err, vol)
	}

	spec := NewSpec(t, img)
	spec.Mounts = []sandbox.Mount{{Volume: RandomID(), Destination: "/mnt/v"}}
	wantClass(t, "create with an unknown volume", d.Create(ctx, spec), errdefs.ErrNotFound)
	for _, sub := range []string{"/abs", "../up", "a/../../b", "a//b", "a/"} {
		spec.Mounts = []sandbox.Mount{{Volume: vol, SubPath: sub, Destination: "/mnt/v"}}
		wantClass(t, "create with sub_path "+sub, d.Create(ctx, spec), errdefs.ErrInvalidArgument)
	}
	spec.Mounts = []sandbox.Mount{{Volume: vol, SubPath: "work/a", Destination: "/mnt/v"}}
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	wantClass(t, "delete of a volume a stopped unit mounts", vm.DeleteVolume(ctx, vol), errdefs.ErrFailedPrecondition)
	wantClass(t, "set mounts of an unknown unit", vm.SetMounts(ctx, RandomID(), nil), errdefs.ErrNotFound)
	wantClass(t, "set mounts with an unknown volume",
		vm.SetMounts(ctx, spec.ID, []sandbox.Mount{{Volume: RandomID(), Destination: "/mnt/v"}}), errdefs.ErrNotFound)
	wantClass(t, "set mounts with an unclean sub_path",
		vm.SetMounts(ctx, spec.ID, []sandbox.Mount{{Volume: vol, SubPath: "../x", Destination: "/mnt/v"}}), errdefs.ErrInvalidArgument)
	mounts := []sandbox.Mount{{Volume: vol, Destination: "/mnt/v"}, {Volume: vol, SubPath: "work", Destination: "/mnt/v/work", ReadOnly: true}}
	if err := vm.SetMounts(ctx, spec.ID, mounts); err != nil {
		t.Fatalf("set mounts of a stopped unit: %v", err)
	}

	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	ready(t, d, spec.ID)
	wantClass(t, "set mounts of a running unit", vm.SetMounts(ctx, spec.ID, nil), errdefs.ErrFailedPrecondition)
	wantClass(t, "delete of a volume a running unit mounts", vm.DeleteVolume(ctx, vol), errdefs.ErrFailedPrecondition)

	if err := d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if err := vm.DeleteVolume(ctx, vol); err != nil {
		t.Fatalf("delete of a volume no unit mounts: %v", err)
	}
	if err := vm.DeleteVolume(ctx, vol); err != nil {
		t.Errorf("second delete of a volume: %v, want nil", err)
	}
	if list, err := vm.ListVolumes(ctx); err != nil || hasVolume(list, vol) {
		t.Errorf("ListVolumes after delete = %+v, %v", list, err)
	}
	if err := vm.CreateVolume(ctx, sandbox.Volume{ID: vol}); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

// Volume creates a volume of sizeMB MiB with a fresh ID and deletes it when t ends (after the
// units that t's later cleanups delete).
func Volume(t testing.TB, vm sandbox.VolumeManager, sizeMB int64) string {
	t.Helper()
	id := RandomID()
	t.Cleanup(func() {
		if err := vm.DeleteVolume(context.Background(), id); err != nil {
			t.Errorf("cleanup: delete volume %s: %v", id, err)
		}
	})
	if err := vm.CreateVolume(context.Background(), sandbox.Volume{ID: id, SizeMB: sizeMB,
		Labels: map[string]string{"suite": "drivertest"}}); err != nil {
		t.Fatal(err)
	}
	return id
}

func hasVolume(list []sandbox.Volume, id string) bool {
	for _, v := range list {
		if v.ID == id {
			return true
		}
	}
	return false
}
