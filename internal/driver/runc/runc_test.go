package runc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/runc"
	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

func newDriver(t *testing.T) (sandbox.Driver, sandbox.Image) {
	testenv.NeedRunc(t)
	dir := testenv.TempDir(t)
	guest, err := engine.InstallGuest(dir, testenv.PaddockBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := runc.New(runc.Config{StateDir: dir + "/s", RuntimeRoot: dir + "/r", GuestBinary: guest})
	if err != nil {
		t.Fatal(err)
	}
	r, err := image.NewResolver(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := r.Resolve(context.Background(), "base")
	if err != nil {
		t.Fatal(err)
	}
	return d, *img
}

func TestConformance(t *testing.T) { drivertest.Run(t, newDriver) }

func TestNewValidates(t *testing.T) {
	cases := map[string]runc.Config{
		"missing runtime": {Runtime: "/nonexistent/runc", StateDir: t.TempDir(), GuestBinary: "/bin/sh"},
		"no state dir":    {GuestBinary: "/bin/sh"},
		"no guest":        {StateDir: t.TempDir(), GuestBinary: "/nonexistent"},
	}
	for name, cfg := range cases {
		if _, err := runc.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestCreateRejectsBadIDsAndLongPaths(t *testing.T) {
	d, img := newDriver(t)
	ctx := context.Background()
	for _, id := range []string{"", "UPPER", "a-b", "../x", strings.Repeat("a", 64)} {
		if err := d.Create(ctx, sandbox.InstanceSpec{ID: id, Image: img}); err == nil {
			t.Errorf("Create accepted ID %q", id)
		}
	}
	long, err := runc.New(runc.Config{StateDir: testenv.TempDir(t) + "/" + strings.Repeat("x", 100), GuestBinary: "/bin/sh"})
	if err != nil {
		t.Fatal(err)
	}
	if err := long.Create(ctx, sandbox.InstanceSpec{ID: "abc", Image: img}); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("long state dir: %v", err)
	}
}
