package runc_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/runc"
	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
	"github.com/paddock/paddock/internal/usernet"
)

// env is one runc driver over fresh directories, with the base image.
type env struct {
	d           *runc.Driver
	img         sandbox.Image
	stateDir    string
	runtimeRoot string
	volumeDir   string
	diskDir     string
	guest       string
}

// newEnv needs root and runc, and uses the real guest: ./cmd/paddock, built once per test
// binary and copied read-only as the GuestBinary.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	testenv.NeedRunc(tb)
	dir := testenv.TempDir(tb)
	guest, err := engine.InstallGuest(dir, testenv.PaddockBinary(tb))
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{stateDir: filepath.Join(dir, "s"), runtimeRoot: filepath.Join(dir, "r"), volumeDir: filepath.Join(dir, "v"),
		diskDir: filepath.Join(dir, "disks"), guest: guest}
	if e.d, err = e.newDriver(); err != nil {
		tb.Fatal(err)
	}
	// Sandboxes of every profile have a disk limit: the driver must be able to enforce it.
	if err := e.d.CheckDiskLimit(sandbox.InstanceSpec{Resources: sandbox.Resources{DiskMB: 64}}); err != nil {
		testenv.Require(tb, "runc", fmt.Sprintf("sandbox disks unavailable (%v): apt-get install e2fsprogs, and give the host loop devices", err))
	}
	r, err := image.NewResolver(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := r.Resolve(context.Background(), image.Base)
	if err != nil {
		tb.Fatal(err)
	}
	e.img = *img
	return e
}

// newDriver makes a driver over e's directories: another one is a restarted server.
func (e *env) newDriver() (*runc.Driver, error) {
	return runc.New(runc.Config{StateDir: e.stateDir, RuntimeRoot: e.runtimeRoot, GuestBinary: e.guest,
		VolumeDir: e.volumeDir, DiskImageDir: e.diskDir, Network: usernet.Config{DNS: []string{testenv.NoDNS}}})
}

func newDriver(t *testing.T) (sandbox.Driver, sandbox.Image) {
	e := newEnv(t)
	return e.d, e.img
}

func TestConformance(t *testing.T) { drivertest.Run(t, newDriver) }

func TestNewValidates(t *testing.T) {
	cases := []struct {
		name string
		cfg  runc.Config
	}{
		{"missing runtime", runc.Config{Runtime: "/nonexistent/runc", StateDir: t.TempDir(), GuestBinary: "/bin/sh"}},
		{"no state dir", runc.Config{GuestBinary: "/bin/sh"}},
		{"no guest", runc.Config{StateDir: t.TempDir(), GuestBinary: "/nonexistent"}},
		{"guest is a dir", runc.Config{StateDir: t.TempDir(), GuestBinary: "/bin/"}},
		{"root cgroup", runc.Config{StateDir: t.TempDir(), GuestBinary: "/bin/sh", CgroupParent: "/"}},
		{"state dir not creatable", runc.Config{StateDir: "/proc/nope", GuestBinary: "/bin/sh"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.cfg.Runtime == "" {
				testenv.NeedRunc(t)
			}
			if _, err := runc.New(c.cfg); err == nil {
				t.Errorf("New accepted %+v", c.cfg)
			}
		})
	}
}

func TestCreateRejects(t *testing.T) {
	e := newEnv(t)
	good := func() sandbox.InstanceSpec { return drivertest.NewSpec(t, e.img) }
	cases := []struct {
		name   string
		mutate func(*sandbox.InstanceSpec)
	}{
		{"empty ID", func(s *sandbox.InstanceSpec) { s.ID = "" }},
		{"upper case", func(s *sandbox.InstanceSpec) { s.ID = "UPPER" }},
		{"dash", func(s *sandbox.InstanceSpec) { s.ID = "a-b" }},
		{"dot dot", func(s *sandbox.InstanceSpec) { s.ID = "../x" }},
		{"flag", func(s *sandbox.InstanceSpec) { s.ID = "--help" }},
		{"64 chars", func(s *sandbox.InstanceSpec) { s.ID = strings.Repeat("a", 64) }},
		{"no layers", func(s *sandbox.InstanceSpec) { s.Image.Layers = nil }},
		{"relative layer", func(s *sandbox.InstanceSpec) { s.Image.Layers = []string{"lower"} }},
		{"layer with comma", func(s *sandbox.InstanceSpec) { s.Image.Layers = []string{"/a,upperdir=/etc"} }},
		{"relative bind", func(s *sandbox.InstanceSpec) { s.Image.Binds = []sandbox.Bind{{Source: "usr", Destination: "/usr"}} }},
		{"unknown seccomp", func(s *sandbox.InstanceSpec) { s.Security.Seccomp = "nope" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := good()
			c.mutate(&spec)
			err := e.d.Create(context.Background(), spec)
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				_ = e.d.Delete(context.Background(), spec.ID)
				t.Errorf("Create: %v, want invalid argument", err)
			}
		})
	}
	list, err := e.d.List(context.Background())
	if err != nil || len(list) != 0 {
		t.Errorf("after rejected creates, List = %+v, %v; want empty", list, err)
	}
}

func TestCreateRejectsLongSocketPath(t *testing.T) {
	testenv.NeedRunc(t)
	long := filepath.Join(testenv.TempDir(t), strings.Repeat("x", 100))
	d, err := runc.New(runc.Config{StateDir: long, GuestBinary: "/bin/sh"})
	if err != nil {
		t.Fatal(err)
	}
	spec := sandbox.InstanceSpec{ID: "abc", Image: sandbox.Image{Layers: []string{"/"}}}
	if err := d.Create(context.Background(), spec); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "too long") {
		t.Errorf("Create with a long state dir: %v, want invalid argument naming the length", err)
	}
}
