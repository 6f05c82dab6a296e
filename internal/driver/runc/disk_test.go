package runc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/drivertest"
)

// mountOf returns the filesystem type mounted at point ("" when nothing is).
func mountOf(t *testing.T, point string) string {
	t.Helper()
	fstype := ""
	for _, m := range mountinfo(t) {
		if m.point == point {
			fstype = m.fstype // the last one is on top
		}
	}
	return fstype
}

// TestDiskImageLifecycle follows a sandbox's disk: a sparse image of the asked size mounted
// on a loop device under the overlay, bounded in bytes and inodes, kept across stop and
// start, and gone with its loop device after delete.
func TestDiskImageLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	spec := drivertest.NewSpec(t, e.img)
	spec.Resources.DiskMB = 64
	e.runSpec(t, spec)
	dir := filepath.Join(e.stateDir, spec.ID)
	disk, upper := filepath.Join(dir, "disk"), filepath.Join(dir, "disk", "upper")

	if got := mountOf(t, disk); got != "ext4" {
		t.Fatalf("mounted at the disk: %q, want ext4", got)
	}
	if loops := loopsUnder(t, e.stateDir); len(loops) != 1 {
		t.Errorf("loop devices on the sandbox's files: %v, want 1", loops)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(disk, &fs); err != nil {
		t.Fatal(err)
	}
	if size := fs.Blocks * uint64(fs.Bsize); size > 64<<20 || size < 48<<20 {
		t.Errorf("disk holds %d bytes of data at most, want 48-64 MiB", size)
	}
	if fs.Files != 64*64 {
		t.Errorf("disk has %d inodes, want %d", fs.Files, 64*64)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "disk.img"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 64<<20 || st.Blocks*512 > 4<<20 {
		t.Errorf("disk image: size %d, %d bytes allocated; want 64 MiB, sparse (under 4 MiB)", st.Size, st.Blocks*512)
	}

	// The host writes into the upper dir, as the sandbox would: past the size, ENOSPC.
	big := bytes.Repeat([]byte{1}, 1<<20)
	f, err := os.Create(filepath.Join(upper, "big"))
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = f.Write(big)
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Errorf("writing 100 MiB into a 64 MiB disk: %v, want ENOSPC", werr)
	}
	stats, err := e.d.Stats(ctx, spec.ID)
	if err != nil || stats.DiskBytes < 40<<20 || stats.DiskBytes > 64<<20 {
		t.Errorf("Stats: %+v, %v; want 40-64 MiB of disk used", stats, err)
	}

	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatal(err)
	}
	if got := mountOf(t, disk); got != "" {
		t.Errorf("after stop, %s still has %s mounted", disk, got)
	}
	if loops := loopsUnder(t, e.stateDir); len(loops) != 0 {
		t.Errorf("after stop: %v", loops)
	}
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	e.ready(t, spec.ID)
	if fi, err := os.Stat(filepath.Join(upper, "big")); err != nil || fi.Size() < 40<<20 {
		t.Errorf("after stop and start, the written file: %v, %v", fi, err)
	}
	if err := os.WriteFile(filepath.Join(upper, "more"), big, 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("writing to the full disk after a restart: %v, want ENOSPC", err)
	}
	if err := e.d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}

// TestDiskGoldenImageMadeOnce checks that sandboxes of one size share one formatted image
// (later ones are copies of it) and that a read-only root gets no image at all.
func TestDiskGoldenImageMadeOnce(t *testing.T) {
	e := newEnv(t)
	goldens := func() []string {
		m, _ := filepath.Glob(filepath.Join(filepath.Dir(e.stateDir), "disks", "*"))
		return m
	}
	var first os.FileInfo
	for i := 0; i < 2; i++ {
		spec := drivertest.NewSpec(t, e.img)
		spec.Resources.DiskMB = 32
		e.runSpec(t, spec)
		g := goldens()
		if len(g) != 1 || !strings.Contains(filepath.Base(g[0]), "32m-2048i") {
			t.Fatalf("golden images after sandbox %d: %v, want one of 32 MiB and 2048 inodes", i+1, g)
		}
		fi, err := os.Stat(g[0])
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = fi
		} else if !os.SameFile(first, fi) || !fi.ModTime().Equal(first.ModTime()) {
			t.Error("the golden image was made again")
		}
	}
	spec := drivertest.NewSpec(t, e.img)
	spec.Security.ReadOnlyRoot, spec.Security.TmpSizeMB, spec.Resources.DiskMB = true, 48, 48
	e.runSpec(t, spec)
	if _, err := os.Stat(filepath.Join(e.stateDir, spec.ID, "disk.img")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only root got a disk image: %v", err)
	}
	if len(goldens()) != 1 {
		t.Errorf("golden images: %v", goldens())
	}
}

// TestDiskCheckedAfterUncleanShutdown marks a stopped sandbox's filesystem as not cleanly
// unmounted, as a host crash leaves it: the next start has e2fsck check it, and the sandbox
// keeps its files.
func TestDiskCheckedAfterUncleanShutdown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	spec := drivertest.NewSpec(t, e.img)
	spec.Resources.DiskMB = 32
	e.runSpec(t, spec)
	dir := filepath.Join(e.stateDir, spec.ID)
	if err := os.WriteFile(filepath.Join(dir, "disk", "upper", "kept"), []byte("yes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "disk.img")
	if out, err := exec.Command("debugfs", "-w", "-R", "ssv state 0", img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v: %s", err, out)
	}
	if out, err := exec.Command("debugfs", "-w", "-R", "ssv lastcheck 0", img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v: %s", err, out)
	}
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	e.ready(t, spec.ID)
	if b, err := os.ReadFile(filepath.Join(dir, "disk", "upper", "kept")); err != nil || string(b) != "yes" {
		t.Errorf("file after the check: %q, %v", b, err)
	}
	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sb [10]byte // s_state at 0x3a, s_lastcheck at 0x40
	if _, err := f.ReadAt(sb[:], 1024+0x3a); err != nil {
		t.Fatal(err)
	}
	if state, checked := binary.LittleEndian.Uint16(sb[:2]), binary.LittleEndian.Uint32(sb[6:]); state != 1 || checked == 0 {
		t.Errorf("superblock state %d, last checked %d: want 1 (clean) and a check", state, checked)
	}
}

// TestDiskNeverMountedTwice has another mount namespace keep a copy of a sandbox's disk
// mount (as one made while the sandbox runs does: a daemon with a private /tmp, another
// test's unshare): stop still succeeds, and start mounts the device that still holds the
// image again, sharing its one filesystem, rather than attaching the image a second time or
// waiting for the other namespace to end.
func TestDiskNeverMountedTwice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	spec := drivertest.NewSpec(t, e.img)
	spec.Resources.DiskMB = 32
	e.runSpec(t, spec)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not in PATH (util-linux)")
	}
	holder := exec.Command(unshare, "--mount", "--propagation", "private", "sleep", "600")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	// The copy exists once the holder's namespace is not ours any more.
	ns := func(pid string) string { l, _ := os.Readlink("/proc/" + pid + "/ns/mnt"); return l }
	for deadline := time.Now().Add(10 * time.Second); ns(strconv.Itoa(holder.Process.Pid)) == ns("self"); {
		if time.Now().After(deadline) {
			t.Fatal("unshare did not make its mount namespace")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatalf("stop while another namespace holds the disk: %v", err)
	}
	if loops := loopsUnder(t, e.stateDir); len(loops) != 1 {
		t.Fatalf("loop devices while held: %v, want the held one", loops)
	}
	held := loopsUnder(t, e.stateDir)
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatalf("start while the old filesystem lives: %v", err)
	}
	e.ready(t, spec.ID)
	if loops := loopsUnder(t, e.stateDir); !slices.Equal(loops, held) {
		t.Errorf("loop devices after the start: %v, want the held one again %v (a second device is a second filesystem)", loops, held)
	}
	// Once the other namespace ends, a stop and start attach the image afresh.
	_ = holder.Process.Kill()
	_ = holder.Wait()
	if err := e.d.Stop(ctx, spec.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatalf("start once it is gone: %v", err)
	}
	e.ready(t, spec.ID)
	if err := e.d.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}
