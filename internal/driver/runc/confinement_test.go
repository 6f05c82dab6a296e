package runc_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// client reaches a sandbox's guest through the driver.
func (e *env) client(t *testing.T, id string) *guestclient.Client {
	t.Helper()
	c := guestclient.New(func(ctx context.Context) (net.Conn, error) { return e.d.Dial(ctx, id) }, "")
	t.Cleanup(c.Close)
	return c
}

func readFile(t *testing.T, c *guestclient.Client, path string) string {
	t.Helper()
	r, err := c.ReadFile(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStopKeepsWritableLayer(t *testing.T) {
	e := newEnv(t)
	spec := e.run(t)
	ctx := context.Background()
	if err := e.client(t, spec.ID).WriteFile(ctx, "/keep.txt", "", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Stop(ctx, spec.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	// The writable layer is in the sandbox's disk image, unmounted now: read it from there.
	img := filepath.Join(e.stateDir, spec.ID, "disk.img")
	if b, err := exec.Command("debugfs", "-R", "cat /upper/keep.txt", img).Output(); err != nil || string(b) != "kept" {
		t.Errorf("writable layer after stop: %q, %v", b, err)
	}
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	e.ready(t, spec.ID)
	if got := readFile(t, e.client(t, spec.ID), "/keep.txt"); got != "kept" {
		t.Errorf("after restart, /keep.txt = %q", got)
	}
}

// TestGuestFilesReadOnly checks that the sandbox, even as root, can neither reach the
// socket the host dials (its directory is not mounted in) nor replace the guest binary.
func TestGuestFilesReadOnly(t *testing.T) {
	e := newEnv(t)
	spec := e.run(t)
	c := e.client(t, spec.ID)
	ctx := context.Background()
	if _, err := c.Stat(ctx, "/.paddock/run/guest.sock", "root"); err == nil {
		t.Error("the guest's socket is visible in the sandbox")
	}
	// A file of that name in the sandbox is the sandbox's own; the host's socket stays.
	if err := c.WriteFile(ctx, "/.paddock/run/guest.sock", "root", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(e.stateDir, spec.ID, "guest", "guest.sock")); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("the host's guest socket: %v, %v", fi, err)
	}
	if err := c.WriteFile(ctx, "/.paddock/bin/paddock", "root", strings.NewReader("x")); err == nil {
		t.Error("the sandbox wrote its guest binary")
	}
	e.ready(t, spec.ID)
}

func TestReadOnlyRoot(t *testing.T) {
	e := newEnv(t)
	spec := drivertest.NewSpec(t, e.img)
	var err error
	spec.Security, spec.Resources, spec.Network, err = profile.Resolve(sandbox.Spec{Profile: "restrictive"})
	if err != nil {
		t.Fatal(err)
	}
	e.runSpec(t, spec)
	c := e.client(t, spec.ID)
	ctx := context.Background()
	// The home directory belongs to the sandbox's user: only the read-only root refuses.
	if err := c.WriteFile(ctx, "/home/user/x", "", strings.NewReader("x")); err == nil {
		t.Error("wrote to the read-only root")
	}
	if err := c.WriteFile(ctx, "/tmp/x", "", strings.NewReader("tmp")); err != nil {
		t.Errorf("write to the /tmp tmpfs: %v", err)
	}
	if got := readFile(t, c, "/tmp/x"); got != "tmp" {
		t.Errorf("/tmp/x = %q", got)
	}
}
