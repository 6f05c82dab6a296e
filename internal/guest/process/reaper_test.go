package process

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const pid1HelperEnv = "PADDOCK_TEST_PID1_REAPER"

// TestPID1Reaper runs the init reaper in a child copy of the test binary, which becomes a
// child subreaper so that orphans are reparented to it as they would be to PID 1. Its
// wait4(-1) would otherwise steal the statuses of this test process's other children.
func TestPID1Reaper(t *testing.T) {
	if os.Getenv(pid1HelperEnv) == "1" {
		pid1ReaperHelper(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPID1Reaper$", "-test.v")
	cmd.Env = append(os.Environ(), pid1HelperEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPID1Reaper") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

func pid1ReaperHelper(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	r := NewPID1Reaper()
	spawn := func(script string, env ...string) <-chan unix.WaitStatus {
		_, ch, err := r.Start(func() (int, error) {
			return syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{Env: env})
		})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	status := func(ch <-chan unix.WaitStatus) unix.WaitStatus {
		select {
		case ws := <-ch:
			return ws
		case <-time.After(20 * time.Second):
			t.Fatal("no exit status dispatched")
			return 0
		}
	}
	// Children that exit at once race their own registration.
	for i := range 30 {
		if ws := status(spawn(fmt.Sprintf("exit %d", i))); !ws.Exited() || ws.ExitStatus() != i {
			t.Fatalf("child %d: status %#x", i, int(ws))
		}
	}
	// An orphan is reparented to the reaper and must be reaped without a waiter.
	pidFile := filepath.Join(t.TempDir(), "orphan")
	if ws := status(spawn(`sleep 0.2 & echo $! > "$F"`, "F="+pidFile)); ws.ExitStatus() != 0 {
		t.Fatalf("parent of the orphan: status %#x", int(ws))
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); isChild(orphan); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d was never reaped", orphan)
		}
	}
}

// isChild reports whether pid is still a child of this process (running or a zombie).
func isChild(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid())
}
