package runc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/runc"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// volumeSandbox runs a sandbox of the default profile (root inside, no network) with mounts.
func (e *env) volumeSandbox(t *testing.T, mounts ...sandbox.Mount) (sandbox.InstanceSpec, *guestclient.Client) {
	t.Helper()
	spec := drivertest.NewSpec(t, e.img)
	spec.Network = sandbox.NetworkNone
	spec.Mounts = mounts
	e.runSpec(t, spec)
	return spec, e.client(t, spec.ID)
}

// mustSh runs script in the sandbox and fails t unless it exits 0; it returns stdout.
func mustSh(t *testing.T, c *guestclient.Client, script string) string {
	t.Helper()
	out, errOut, code := sh(t, c, script)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", script, code, errOut)
	}
	return out
}

// volumeData is the host directory units see as the root of volume id.
func (e *env) volumeData(id string) string { return filepath.Join(e.volumeDir, id, "fs", "data") }

// noVolumeLeftovers checks that nothing of the volumes is mounted or attached any more.
func noVolumeLeftovers(t *testing.T, e *env) {
	t.Helper()
	for _, m := range mountinfo(t) {
		if strings.HasPrefix(m.point, e.volumeDir+"/") {
			t.Errorf("left mounted: %s", m.point)
		}
	}
	if loops := loopsUnder(t, e.volumeDir); len(loops) > 0 {
		t.Errorf("left attached: %v", loops)
	}
}

// TestVolumeLifecycle follows a volume's content through a stop and start of its unit, the
// unit's deletion and a new unit, and a server restart (Close, then a new driver over the same
// directories); then it deletes the volume and checks that nothing is left.
func TestVolumeLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Cleanup(func() { noVolumeLeftovers(t, e) })
	vol := drivertest.Volume(t, e.d, 64)
	if got := mountOf(t, filepath.Join(e.volumeDir, vol, "fs")); got != "ext4" {
		t.Fatalf("volume mounted as %q, want ext4", got)
	}
	list, err := e.d.ListVolumes(ctx)
	if err != nil || len(list) != 1 || list[0].ID != vol || list[0].SizeMB != 64 || list[0].Labels["suite"] != "drivertest" {
		t.Fatalf("ListVolumes = %+v, %v", list, err)
	}
	ws := sandbox.Mount{Volume: vol, SubPath: "ws", Destination: "/home/ws"}
	spec, c := e.volumeSandbox(t, ws)
	mustSh(t, c, "echo kept > /home/ws/f")

	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	e.ready(t, spec.ID)
	if got := mustSh(t, c, "cat /home/ws/f"); got != "kept" {
		t.Errorf("after stop and start: %q", got)
	}
	if err := e.d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	_, c = e.volumeSandbox(t, ws)
	if got := mustSh(t, c, "cat /home/ws/f"); got != "kept" {
		t.Errorf("in a new unit: %q", got)
	}

	// A restart while that unit runs: the new driver shares the running unit's filesystem.
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mountOf(t, filepath.Join(e.volumeDir, vol, "fs")); got != "" {
		t.Errorf("after Close the volume is still mounted on the host (%s)", got)
	}
	if e.d, err = e.newDriver(); err != nil {
		t.Fatal(err)
	}
	_, c2 := e.volumeSandbox(t, sandbox.Mount{Volume: vol, Destination: "/vol"})
	mustSh(t, c, "echo live > /home/ws/g")
	if got := mustSh(t, c2, "cat /vol/ws/f /vol/ws/g"); got != "kept\nlive" {
		t.Errorf("after a restart: %q", got)
	}
	if loops := loopsUnder(t, e.volumeDir); len(loops) != 1 {
		t.Errorf("loop devices on the volume: %v, want 1", loops)
	}
}

// TestVolumeReadOnly checks that a read-only mount holds for root in the sandbox, even against
// a remount, and that a writable mount inside it is writable.
func TestVolumeReadOnly(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(func() { noVolumeLeftovers(t, e) })
	vol := drivertest.Volume(t, e.d, 32)
	_, c := e.volumeSandbox(t,
		sandbox.Mount{Volume: vol, Destination: "/ws", ReadOnly: true},
		sandbox.Mount{Volume: vol, SubPath: "scratch/rw", Destination: "/ws/out"})
	if out := mustSh(t, c, "id -u"); out != "0" {
		t.Fatalf("the sandbox runs as uid %s, want root", out)
	}
	for _, script := range []string{"touch /ws/x", "mkdir /ws/d", "mount -o remount,rw /ws && touch /ws/x", "rm -rf /ws/out"} {
		if _, _, code := sh(t, c, script); code == 0 {
			t.Errorf("%q succeeded in a read-only mount", script)
		}
	}
	mustSh(t, c, "echo w > /ws/out/y")
	if b, err := os.ReadFile(filepath.Join(e.volumeData(vol), "scratch", "rw", "y")); err != nil || string(b) != "w\n" {
		t.Errorf("the write through the inner mount: %q, %v", b, err)
	}
	// The inner mount point was made in the volume, where the outer mount shows it.
	if fi, err := os.Stat(filepath.Join(e.volumeData(vol), "out")); err != nil || !fi.IsDir() {
		t.Errorf("mount point in the volume: %v, %v", fi, err)
	}
}

// TestVolumeShared runs two units on one volume: each sees the other's writes at once.
func TestVolumeShared(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(func() { noVolumeLeftovers(t, e) })
	vol := drivertest.Volume(t, e.d, 32)
	_, a := e.volumeSandbox(t, sandbox.Mount{Volume: vol, Destination: "/shared"})
	_, b := e.volumeSandbox(t, sandbox.Mount{Volume: vol, Destination: "/shared"})
	mustSh(t, a, "echo from-a > /shared/a")
	if got := mustSh(t, b, "cat /shared/a; echo from-b > /shared/b"); got != "from-a" {
		t.Errorf("b reads %q", got)
	}
	if got := mustSh(t, a, "cat /shared/b"); got != "from-b" {
		t.Errorf("a reads %q", got)
	}
}

// TestVolumeOwnership checks that the directories the driver makes in a volume belong to the
// mounting unit's user, who can write there without any capability.
func TestVolumeOwnership(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(func() { noVolumeLeftovers(t, e) })
	vol := drivertest.Volume(t, e.d, 32)
	spec := drivertest.NewSpec(t, e.img)
	var err error
	spec.Security, spec.Resources, spec.Network, err = profile.Resolve(sandbox.Spec{Profile: "restrictive"})
	if err != nil {
		t.Fatal(err)
	}
	spec.Mounts = []sandbox.Mount{{Volume: vol, SubPath: "a/b", Destination: "/home/user/work"}}
	e.runSpec(t, spec)
	c := e.client(t, spec.ID)
	mustSh(t, c, "echo mine > /home/user/work/f")
	for _, dir := range []string{"", "a", "a/b"} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(e.volumeData(vol), dir), &st); err != nil || st.Uid != 1000 || st.Gid != 1000 {
			t.Errorf("volume dir %q: uid %d gid %d, %v; want 1000", dir, st.Uid, st.Gid, err)
		}
	}
}

// TestVolumeSymlinkAttack has a sandbox plant symlinks to the host's /etc and / in a volume:
// a unit whose SubPath goes through one does not start (and mounts nothing), and no SubPath
// through one is accepted later.
func TestVolumeSymlinkAttack(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(func() { noVolumeLeftovers(t, e) })
	ctx := context.Background()
	vol := drivertest.Volume(t, e.d, 32)
	_, attacker := e.volumeSandbox(t, sandbox.Mount{Volume: vol, Destination: "/ws"})

	// Created before the links exist, so that only Start can catch them.
	// "nested" has its mount point made through the earlier mount, in the volume.
	victims := map[string]sandbox.InstanceSpec{}
	for _, sub := range []string{"content", "d/up/etc", "d/up", "nested"} {
		spec := drivertest.NewSpec(t, e.img)
		spec.Network = sandbox.NetworkNone
		spec.Mounts = []sandbox.Mount{{Volume: vol, SubPath: sub, Destination: "/mnt/c"}}
		if sub == "nested" {
			spec.Mounts = []sandbox.Mount{{Volume: vol, Destination: "/mnt/c"}, {Volume: vol, SubPath: "sub", Destination: "/mnt/c/content/x"}}
		}
		t.Cleanup(func() { _ = e.d.Delete(context.Background(), spec.ID) })
		if err := e.d.Create(ctx, spec); err != nil {
			t.Fatalf("create with sub_path %q: %v", sub, err)
		}
		victims[sub] = spec
	}
	mustSh(t, attacker, "ln -s /etc /ws/content && mkdir /ws/d && ln -s / /ws/d/up && ln -s /etc/passwd /ws/file")

	for sub, spec := range victims {
		err := e.d.Start(ctx, spec.ID)
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("start with sub_path %q through a symlink: %v, want invalid argument", sub, err)
		}
		if err != nil && strings.Contains(err.Error(), e.volumeDir) {
			t.Errorf("the error names a host path: %v", err)
		}
		for _, m := range mountinfo(t) {
			if strings.HasPrefix(m.point, filepath.Join(e.stateDir, spec.ID)+"/") {
				t.Errorf("sub_path %q: left mounted: %s", sub, m.point)
			}
		}
		if sub == "nested" {
			continue
		}
		bad := []sandbox.Mount{{Volume: vol, SubPath: sub, Destination: "/mnt/c"}}
		if err := e.d.SetMounts(ctx, spec.ID, bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("set mounts with sub_path %q: %v, want invalid argument", sub, err)
		}
	}
	if err := e.d.SetMounts(ctx, victims["content"].ID, []sandbox.Mount{{Volume: vol, SubPath: "file", Destination: "/mnt/c"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("sub_path to a symlinked file: %v, want invalid argument", err)
	}
	if _, err := os.Lstat("/etc/x"); err == nil {
		t.Error("the host's /etc got the nested mount point")
	}
	// The sandbox's links resolve inside the sandbox only: its own /etc.
	if _, err := os.Lstat("/etc/passwd"); err != nil {
		t.Fatal(err)
	}
	if out := mustSh(t, attacker, "ls /ws/content/ | head -1"); out == "" {
		t.Error("the sandbox's own /etc looks empty")
	}
}

// TestStatsNet checks the network counters: zeros without a network, the sandbox's traffic
// with one.
func TestStatsNet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	none, _ := e.volumeSandbox(t)
	st, err := e.d.Stats(ctx, none.ID)
	if err != nil || st.Net == nil || *st.Net != (sandbox.NetStats{}) {
		t.Errorf("Stats of a sandbox without a network: %+v, %v; want zero counters", st, err)
	}

	needPython(t)
	spec := drivertest.NewSpec(t, e.img)
	spec.Network = sandbox.NetworkEgress
	e.runSpec(t, spec)
	c := e.client(t, spec.ID)
	mustSh(t, c, `python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10): s.sendto(b'x' * 1000, ('10.0.2.2', 9))"`)
	st, err = e.d.Stats(ctx, spec.ID)
	if err != nil || st.Net == nil || st.Net.TxPackets < 10 || st.Net.TxBytes < 10*1028 {
		t.Errorf("Stats after 10 datagrams of 1000 bytes: %+v, %v", st.Net, err)
	}
}

// TestVolumeWithoutLoopDevices checks the fallback of hosts without loop devices: a volume is
// a plain directory, listed unbounded, with the same SubPath rules.
func TestVolumeWithoutLoopDevices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Cleanup(func() { noVolumeLeftovers(t, e) })
	runc.DisableDiskLimits(e.d)
	vol := drivertest.Volume(t, e.d, 64)
	if list, err := e.d.ListVolumes(ctx); err != nil || len(list) != 1 || list[0].SizeMB != 0 {
		t.Errorf("ListVolumes = %+v, %v; want one volume of size 0 (unbounded)", list, err)
	}
	if got := mountOf(t, filepath.Join(e.volumeDir, vol, "fs")); got != "" {
		t.Errorf("a plain volume is mounted (%s)", got)
	}
	spec := drivertest.NewSpec(t, e.img)
	spec.Network, spec.Resources.DiskMB = sandbox.NetworkNone, 0
	spec.Mounts = []sandbox.Mount{{Volume: vol, SubPath: "ws", Destination: "/ws"}}
	e.runSpec(t, spec)
	c := e.client(t, spec.ID)
	mustSh(t, c, "echo plain > /ws/f && ln -s /etc /ws/link")
	if b, err := os.ReadFile(filepath.Join(e.volumeData(vol), "ws", "f")); err != nil || string(b) != "plain\n" {
		t.Errorf("the file in the volume: %q, %v", b, err)
	}
	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatal(err)
	}
	bad := []sandbox.Mount{{Volume: vol, SubPath: "ws/link", Destination: "/ws"}}
	if err := e.d.SetMounts(ctx, spec.ID, bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("sub_path through a symlink: %v, want invalid argument", err)
	}
}
