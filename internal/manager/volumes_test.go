package manager_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestCreateWithMounts(t *testing.T) {
	m, drv, _ := newManager(t, manager.PoolConfig{Image: "base", Size: 1})
	ctx := context.Background()
	// A warm sandbox that matches everything else is ready, and must not be served.
	waitFor(t, "the pool to fill", func() bool { return poolsReady(m, map[string]int{"": 1}) })
	if err := m.CreateVolume(ctx, sandbox.Volume{ID: "ws-1"}); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateVolume(ctx, sandbox.Volume{ID: "ws-1"}); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	mounts := []sandbox.Mount{{Volume: "ws-1", Destination: "/home/developer"},
		{Volume: "ws-1", SubPath: "output", Destination: "/home/developer/output"}}
	sb, err := m.Create(ctx, sandbox.Spec{Name: "withmounts", Mounts: mounts}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := drv.Mounts(sb.ID)
	if err != nil || !reflect.DeepEqual(got, mounts) {
		t.Fatalf("driver mounts %+v %v, want %+v", got, err, mounts)
	}
	if st := m.PoolStats(); st[0].Claims != 0 {
		t.Errorf("a spec with mounts claimed a warm sandbox: %+v", st)
	}
	if len(sb.Instance.Mounts) != 2 {
		t.Errorf("record keeps %d mounts, want 2", len(sb.Instance.Mounts))
	}
	if err := m.DeleteVolume(ctx, "ws-1"); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("delete of a mounted volume: %v, want failed precondition", err)
	}

	bad := []struct {
		name   string
		mounts []sandbox.Mount
		want   error
	}{
		{"unknown volume", []sandbox.Mount{{Volume: "nope", Destination: "/w"}}, errdefs.ErrNotFound},
		{"relative destination", []sandbox.Mount{{Volume: "ws-1", Destination: "w"}}, errdefs.ErrInvalidArgument},
		{"root destination", []sandbox.Mount{{Volume: "ws-1", Destination: "/"}}, errdefs.ErrInvalidArgument},
		{"twice", []sandbox.Mount{{Volume: "ws-1", Destination: "/w"}, {Volume: "ws-1", Destination: "/w"}}, errdefs.ErrInvalidArgument},
		{"escaping sub-path", []sandbox.Mount{{Volume: "ws-1", SubPath: "../x", Destination: "/w"}}, errdefs.ErrInvalidArgument},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := m.Create(ctx, sandbox.Spec{Mounts: c.mounts}, ""); !errors.Is(err, c.want) {
				t.Errorf("err %v, want %v", err, c.want)
			}
		})
	}
}

func TestSetMounts(t *testing.T) {
	m, drv, _ := newManager(t)
	ctx := context.Background()
	if err := m.CreateVolume(ctx, sandbox.Volume{ID: "ws-2"}); err != nil {
		t.Fatal(err)
	}
	sb, err := m.Create(ctx, sandbox.Spec{Name: "remount"}, "")
	if err != nil {
		t.Fatal(err)
	}
	mounts := []sandbox.Mount{{Volume: "ws-2", Destination: "/home/developer", ReadOnly: true}}
	if err := m.SetMounts(ctx, sb.Name, mounts); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("set mounts while running: %v", err)
	}
	if _, err := m.Stop(ctx, sb.Name); err != nil {
		t.Fatal(err)
	}
	if err := m.SetMounts(ctx, sb.Name, mounts); err != nil {
		t.Fatal(err)
	}
	if got, _ := drv.Mounts(sb.ID); !reflect.DeepEqual(got, mounts) {
		t.Errorf("driver mounts %+v", got)
	}
	rec, err := m.Get(ctx, sb.Name)
	if err != nil || !reflect.DeepEqual(rec.Instance.Mounts, mounts) {
		t.Errorf("record mounts %+v %v", rec.Instance.Mounts, err)
	}
	if _, err := m.Start(ctx, sb.Name); err != nil {
		t.Fatal(err)
	}
}
