package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// createWithDisk creates a sandbox with an explicit disk_mb, skipping (failing in CI) where
// the host cannot enforce one.
func createWithDisk(t *testing.T, eng *Engine, spec sandbox.Spec) *sandbox.Sandbox {
	t.Helper()
	sb, err := eng.Create(context.Background(), spec, "")
	if errors.Is(err, errdefs.ErrInvalidArgument) && strings.Contains(err.Error(), "cannot be enforced") {
		testenv.Require(t, "runc", fmt.Sprintf("%v: apt-get install e2fsprogs, and give the host loop devices", err))
	}
	if err != nil {
		t.Fatalf("create %+v: %v", spec, err)
	}
	return sb
}

// hostFree is the space left on the filesystem of dir, in bytes.
func hostFree(t *testing.T, dir string) int64 {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	return int64(fs.Bavail) * fs.Bsize
}

// fillDisk writes 256 MiB into a sandbox whose disk is 64 MiB and checks that dd fails with
// ENOSPC inside. It returns dd's report.
func fillDisk(t *testing.T, eng *Engine, id, file string) string {
	t.Helper()
	out := shOK(t, eng, id, "dd if=/dev/zero of="+file+" bs=1M count=256 2>&1; echo exit=$?; sync")
	if !strings.Contains(out, "No space left on device") || !strings.HasSuffix(out, "exit=1") {
		t.Errorf("dd of 256 MiB into a 64 MiB disk:\n%s\nwant exit 1 with 'No space left on device'", out)
	}
	return out
}

// TestDiskLimitWritePastFailsInside writes past a 64 MiB disk: dd fails inside the sandbox
// with ENOSPC, the host's free space moves by no more than the limit, and the limit holds after
// a stop and start and after two engine restarts (one adopting the running sandbox, one
// restarting it after its container died).
func TestDiskLimitWritePastFailsInside(t *testing.T) {
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	sb := createWithDisk(t, eng, sandbox.Spec{Name: "small", DiskMB: 64, Network: sandbox.NetworkNone})
	if sb.Instance.Resources.DiskMB != 64 {
		t.Fatalf("disk_mb recorded as %d", sb.Instance.Resources.DiskMB)
	}
	before := hostFree(t, dir)
	fillDisk(t, eng, sb.ID, "/workspace/big")
	// Generous: other processes on this host write too. Without the limit it moves 256 MiB.
	if used := before - hostFree(t, dir); used > 64<<20+128<<20 {
		t.Errorf("the host lost %d MiB of free space for a 64 MiB disk", used>>20)
	}
	size, err := strconv.ParseInt(shOK(t, eng, sb.ID, "stat -c %s /workspace/big"), 10, 64)
	if err != nil || size > 64<<20 || size < 32<<20 {
		t.Errorf("written file is %d bytes (%v), want 32-64 MiB", size, err)
	}
	if st, err := eng.Stats(ctx, sb.ID); err != nil || st.DiskBytes < uint64(size) {
		t.Errorf("stats: %+v, %v; want disk_bytes of at least %d", st, err, size)
	}

	if _, err := eng.Stop(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Start(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	fillDisk(t, eng, sb.ID, "/workspace/after-restart")

	// A restart of the engine adopts the running sandbox with its disk.
	if err := eng.Close(ctx); err != nil {
		t.Fatal(err)
	}
	eng = openTestEngine(t, dir)
	if got, err := eng.Get(ctx, "small"); err != nil || got.State != sandbox.StateRunning {
		t.Fatalf("after an engine restart: %+v, %v", got, err)
	}
	fillDisk(t, eng, sb.ID, "/workspace/after-engine-restart")

	// Its container dies while no engine runs: the next one restarts it on the same disk.
	if err := eng.Close(ctx); err != nil {
		t.Fatal(err)
	}
	runtimeKill(t, dir, sb.ID)
	eng = openTestEngine(t, dir)
	if got := shOK(t, eng, sb.ID, "stat -c %s /workspace/big"); got != strconv.FormatInt(size, 10) {
		t.Errorf("after the container died and the engine restarted, /workspace/big is %s bytes, want %d", got, size)
	}
	fillDisk(t, eng, sb.ID, "/workspace/after-crash")
}

// runtimeKill kills a sandbox's container behind the engine's back and waits until the
// runtime reports it stopped.
func runtimeKill(t *testing.T, dataDir, id string) {
	t.Helper()
	root := filepath.Join(dataDir, "runc")
	if out, err := exec.Command("runc", "--root", root, "kill", id, "KILL").CombinedOutput(); err != nil {
		t.Fatalf("runc kill: %v: %s", err, out)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		out, _ := exec.Command("runc", "--root", root, "state", id).Output()
		if strings.Contains(string(out), `"stopped"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not stop: %s", id, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDiskLimitInodes creates empty files until the disk has no inode left: creation fails
// with ENOSPC near disk_mb*64 files, and the host's inodes are untouched.
func TestDiskLimitInodes(t *testing.T) {
	eng, dir := newTestEngine(t)
	sb := createWithDisk(t, eng, sandbox.Spec{DiskMB: 64})
	const limit = 64 * 64
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	hostInodes := fs.Ffree
	// Stops at twice the limit, should the limit not hold.
	out := shOK(t, eng, sb.ID, fmt.Sprintf(`mkdir /workspace/d && cd /workspace/d && i=0
		while [ $i -lt %d ] && true 2>/dev/null > f$i; do i=$((i+1)); done
		echo $i; (true > last) 2>&1 || true`, 2*limit))
	lines := strings.Split(out, "\n")
	n, err := strconv.Atoi(lines[0])
	if err != nil {
		t.Fatalf("output %q", out)
	}
	if n > limit || n < limit*95/100 {
		t.Errorf("created %d files before running out of inodes, want %d-%d", n, limit*95/100, limit)
	}
	if !strings.Contains(out, "No space left on device") {
		t.Errorf("one more file: %q, want ENOSPC", out)
	}
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	// The host's inodes do not move by the files made (others on this host may make some).
	if used := int64(hostInodes) - int64(fs.Ffree); used > limit/2 {
		t.Errorf("the host lost %d inodes", used)
	}
}

// TestDiskLimitLeavesNothing checks that deleting sandboxes with disks leaves no mount, loop
// device or image, and that the golden image is the only file kept.
func TestDiskLimitLeavesNothing(t *testing.T) {
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ {
		sb := createWithDisk(t, eng, sandbox.Spec{DiskMB: 32})
		ids = append(ids, sb.ID)
		shOK(t, eng, sb.ID, "echo x > /workspace/f")
		if i%2 == 1 {
			if _, err := eng.Stop(ctx, sb.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := eng.Delete(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	if left := leftovers(t, dir, ids); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
	goldens, _ := filepath.Glob(filepath.Join(dir, "disks", "*"))
	if len(goldens) != 1 {
		t.Errorf("golden images: %v, want one", goldens)
	}
}

// loopsUnder lists the loop devices whose backing file is (or was, before its deletion) under
// dir.
func loopsUnder(t *testing.T, dir string) []string {
	t.Helper()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), dir+"/") {
			out = append(out, "loop device "+strings.TrimSpace(string(b)))
		}
	}
	return out
}
