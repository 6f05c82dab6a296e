package process

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/testenv"
)

// TestSpawnerPlacesChildren runs a spawner on a cgroup v1 pids cgroup of its own with room
// for two children: they start there, a third fork fails for want of pids, and the test
// process, outside that cgroup, still starts threads.
func TestSpawnerPlacesChildren(t *testing.T) {
	dir := testPidsCgroup(t)
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte("3"), 0); err != nil { // the thread and two children
		t.Fatal(err)
	}
	tasks, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	sp := newSpawner([]*os.File{tasks})
	t.Cleanup(func() {
		sp.close()
		tasks.Close()
	})
	spawn := func() (int, error) {
		return sp.run(func() (int, error) {
			return syscall.ForkExec("/bin/sleep", []string{"sleep", "30"}, &syscall.ProcAttr{})
		})
	}
	var children []int
	t.Cleanup(func() {
		for _, pid := range children {
			_ = unix.Kill(pid, unix.SIGKILL)
			_, _ = unix.Wait4(pid, nil, 0, nil)
		}
	})
	for range 2 {
		pid, err := spawn()
		if err != nil {
			t.Fatalf("spawn: %v", err)
		}
		children = append(children, pid)
		if got := pidsCgroup(t, pid); !strings.HasSuffix(dir, got) {
			t.Errorf("child %d is in pids cgroup %s, want %s", pid, got, dir)
		}
	}
	if pid, err := spawn(); !errors.Is(err, unix.EAGAIN) {
		children = append(children, pid)
		t.Fatalf("third spawn: pid %d, %v; want EAGAIN from the full cgroup", pid, err)
	}
	// The runtime's other threads are outside the cgroup: new ones start although it is full.
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-release
		}()
	}
	close(release)
	wg.Wait()
	if got := pidsCgroup(t, os.Getpid()); strings.HasSuffix(dir, got) {
		t.Errorf("the test process's main thread moved to %s", got)
	}
}

// testPidsCgroup makes a cgroup v1 pids cgroup for the test, removed when it ends (once
// the spawner's thread has left it).
func testPidsCgroup(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Require(t, "cgroup-v1", "the spawner test needs root to make a cgroup")
	}
	root := ""
	for _, m := range mountedCgroups(t) {
		if m.fstype == "cgroup" && slices.Contains(strings.Split(m.super, ","), "pids") {
			root = m.point
		}
	}
	if root == "" {
		testenv.Require(t, "cgroup-v1", "the spawner test needs a cgroup v1 pids hierarchy (this host has none)")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	dir := filepath.Join(root, "paddock", "spawner-test-"+hex.EncodeToString(b))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			err := unix.Rmdir(dir)
			if err == nil || !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				if err != nil {
					t.Errorf("remove the test cgroup: %v", err)
				}
				return
			}
		}
	})
	return dir
}

// pidsCgroup is the pids cgroup of pid's main thread, relative to its hierarchy.
func pidsCgroup(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[1] == "pids" {
			return parts[2]
		}
	}
	t.Fatalf("no pids cgroup in %s", b)
	return ""
}

type cgroupFS struct{ point, fstype, super string }

func mountedCgroups(t *testing.T) []cgroupFS {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []cgroupFS
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i := 6; i+3 < len(fields); i++ {
			if fields[i] == "-" {
				out = append(out, cgroupFS{point: fields[4], fstype: fields[i+1], super: fields[i+3]})
				break
			}
		}
	}
	return out
}
