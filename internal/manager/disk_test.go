package manager_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// noDiskLimits is a driver without sandbox.DiskLimiter.
type noDiskLimits struct{ sandbox.Driver }

// noLoopDevices limits the disk only through a read-only root's tmpfs, as the runc driver
// does on a host without loop devices.
type noLoopDevices struct{ sandbox.Driver }

func (noLoopDevices) CheckDiskLimit(spec sandbox.InstanceSpec) error {
	if spec.Security.ReadOnlyRoot {
		return nil
	}
	return errdefs.FailedPrecondition("this host has no loop devices")
}

func TestDiskLimitNeverSilentlyIgnored(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		wrap   func(sandbox.Driver) sandbox.Driver
		limits bool   // enforces disk_mb on a writable root
		reason string // in the refusal
	}{
		{"fake", func(d sandbox.Driver) sandbox.Driver { return d }, true, ""},
		{"no disk limits", func(d sandbox.Driver) sandbox.Driver { return noDiskLimits{d} }, false, "no disk limits"},
		{"no loop devices", func(d sandbox.Driver) sandbox.Driver { return noLoopDevices{d} }, false, "no loop devices"},
	} {
		t.Run(c.name, func(t *testing.T) {
			drv, err := fake.New(testenv.TempDir(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := manager.New(ctx, manager.Config{Driver: c.wrap(drv), Store: memory.New(), Images: images{}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Close(context.Background()) })

			sb, err := m.Create(ctx, sandbox.Spec{}, "")
			if err != nil {
				t.Fatal(err)
			}
			want := int64(0) // the profile's default, dropped when not enforced
			if c.limits {
				want = 2048
			}
			if got := sb.Instance.Resources.DiskMB; got != want {
				t.Errorf("default disk_mb = %d, want %d", got, want)
			}
			sb, err = m.Create(ctx, sandbox.Spec{DiskMB: 64}, "")
			switch {
			case c.limits && (err != nil || sb.Instance.Resources.DiskMB != 64):
				t.Errorf("disk_mb 64: %v, %+v", err, sb)
			case !c.limits && (!errors.Is(err, errdefs.ErrInvalidArgument) ||
				!strings.Contains(err.Error(), "disk_mb") || !strings.Contains(err.Error(), c.reason)):
				t.Errorf("disk_mb 64 where it cannot be enforced: %v, want invalid argument naming disk_mb and %q", err, c.reason)
			}
			// A read-only root's disk_mb is its /tmp tmpfs, which noLoopDevices can do.
			sb, err = m.Create(ctx, sandbox.Spec{Profile: "restrictive", DiskMB: 100}, "")
			if c.name == "no disk limits" {
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Errorf("restrictive disk_mb on a driver without disk limits: %v, want invalid argument", err)
				}
				return
			}
			if err != nil || sb.Instance.Resources.DiskMB != 100 || sb.Instance.Security.TmpSizeMB != 100 {
				t.Errorf("restrictive disk_mb 100: %v, %+v", err, sb)
			}
		})
	}
}

// TestPoolKeyedByDiskSize checks that a sandbox asking for another disk size never takes a
// pooled one, and that a pool configured with that size serves it.
func TestPoolKeyedByDiskSize(t *testing.T) {
	m, _, _ := newManager(t, manager.PoolConfig{Image: "base", Profile: "moderate", DiskMB: 64, Size: 1})
	ctx := context.Background()
	waitReady(t, m, 1)
	sb, err := m.Create(ctx, sandbox.Spec{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := m.PoolStats()[0]; st.Claims != 0 || sb.Instance.Resources.DiskMB != 2048 {
		t.Errorf("default-sized create: pool claims %d, disk %d; want 0 claims, 2048", st.Claims, sb.Instance.Resources.DiskMB)
	}
	sb, err = m.Create(ctx, sandbox.Spec{DiskMB: 64}, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := m.PoolStats()[0]; st.Claims != 1 || sb.Instance.Resources.DiskMB != 64 {
		t.Errorf("create with the pool's size: pool claims %d, disk %d; want 1 claim, 64", st.Claims, sb.Instance.Resources.DiskMB)
	}
}
