package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestGuestSurvivesSignalsFromInside sends the guest (PID 1) signals as root from inside a
// default sandbox, as `kill -TERM 1` in a user's script would: each must leave the guest
// serving. Processes the guest starts must not inherit ignored signals.
func TestGuestSurvivesSignalsFromInside(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{})
	if got := shOK(t, eng, sb.ID, "grep ^SigIgn: /proc/self/status"); got != "SigIgn:\t0000000000000000" {
		t.Errorf("a user process starts with ignored signals: %q", got)
	}
	for _, sig := range []string{"TERM", "QUIT", "SEGV", "BUS", "HUP", "INT", "USR1", "40"} {
		// Wait until the kernel has delivered it: a signal that kills must do so before the
		// next exec, not after.
		script := "kill -s " + sig + " 1 && for i in $(seq 500); do " +
			"grep -q '^ShdPnd:\t0*$' /proc/1/status && exit 0; sleep 0.01; done; exit 1"
		res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: script, User: "root", Timeout: time.Minute})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("kill -%s 1: %+v, %v", sig, res, err)
		}
		res, err = eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "echo alive", Timeout: time.Minute})
		if err != nil || string(res.Stdout) != "alive\n" {
			t.Fatalf("after kill -%s 1, exec: %+v, %v", sig, res, err)
		}
	}
	// The same signals sent with a code other than kill's, which the Go runtime would take
	// for a fault of its own: each attempt must be refused (EPERM) and the guest live on.
	res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"python3", "-c", queuedSignals},
		User: "root", Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 || strings.TrimSpace(string(res.Stdout)) != "sigqueue=1 pidfd=1 setsig=1" {
		t.Errorf("queued fault signals to PID 1: %+v, %v; want each refused with EPERM (1)", res, err)
	}
	shOK(t, eng, sb.ID, "for i in $(seq 500); do grep -q '^ShdPnd:\t0*$' /proc/1/status && exit 0; sleep 0.01; done; exit 1")
	if got := shOK(t, eng, sb.ID, "echo alive"); got != "alive" {
		t.Errorf("after queued signals: %q", got)
	}
	if got, err := eng.Get(ctx, sb.ID); err != nil || got.State != sandbox.StateRunning {
		t.Errorf("after the signals: %+v, %v", got, err)
	}
}

// queuedSignals tries each way a process can send PID 1 a fault signal with a code of its
// choosing (sigqueue, pidfd_send_signal with a siginfo, an fd's I/O signal) and prints each
// errno (0: sent).
const queuedSignals = `
import ctypes, fcntl, os, signal, struct
libc = ctypes.CDLL(None, use_errno=True)
out = []
r = libc.sigqueue(1, signal.SIGSEGV, ctypes.c_void_p(0))
out.append("sigqueue=%d" % (ctypes.get_errno() if r else 0))
fd = os.pidfd_open(1)
info = ctypes.create_string_buffer(struct.pack("iii", signal.SIGBUS, 0, -1), 128)
r = libc.syscall(424, fd, signal.SIGBUS, info, 0)
out.append("pidfd=%d" % (ctypes.get_errno() if r else 0))
rd, wr = os.pipe()
fcntl.fcntl(rd, fcntl.F_SETOWN, 1)
try:
    fcntl.fcntl(rd, fcntl.F_SETSIG, signal.SIGSEGV)
    fcntl.fcntl(rd, fcntl.F_SETFL, fcntl.fcntl(rd, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(wr, b"x")
    out.append("setsig=0")
except OSError as e:
    out.append("setsig=%d" % e.errno)
print(" ".join(out))
`

// initPid reads the host pid of a sandbox's init (its guest) from the runc driver's pid file.
func initPid(t *testing.T, dataDir, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "sandboxes", id, "init.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitFailed polls (bounded) until the sandbox is failed and returns it.
func waitFailed(t *testing.T, eng *Engine, id string) *sandbox.Sandbox {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		sb, err := eng.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if sb.State == sandbox.StateFailed {
			return sb
		}
	}
	t.Fatalf("sandbox %s did not turn failed", id)
	return nil
}

// TestKilledInitTurnsFailed kills a sandbox's init from the host, as a crash would: the
// sandbox turns failed with a reason and an audit event, exec says so, and start brings it
// back with its files.
func TestKilledInitTurnsFailed(t *testing.T) {
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{Name: "crashy"})
	shOK(t, eng, sb.ID, "echo kept > /workspace/f")
	if err := syscall.Kill(initPid(t, dir, sb.ID), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := waitFailed(t, eng, sb.ID)
	if got.Reason != manager.ReasonInitExited {
		t.Errorf("reason = %q, want %q", got.Reason, manager.ReasonInitExited)
	}
	evs, err := eng.Events.ListEvents(ctx, audit.Filter{Sandbox: "crashy", Type: audit.SandboxFailed})
	if err != nil || len(evs) != 1 || evs[0].Details["reason"] != manager.ReasonInitExited {
		t.Errorf("sandbox_failed events: %+v, %v", evs, err)
	}
	_, err = eng.Exec(ctx, "crashy", manager.ExecRequest{Shell: "true"})
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "is failed: "+manager.ReasonInitExited) {
		t.Errorf("exec in the failed sandbox: %v", err)
	}
	if _, err := eng.Start(ctx, "crashy"); err != nil {
		t.Fatal(err)
	}
	if got := shOK(t, eng, sb.ID, "cat /workspace/f"); got != "kept" {
		t.Errorf("after start: %q", got)
	}
	// Watched again after the start.
	if err := syscall.Kill(initPid(t, dir, sb.ID), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFailed(t, eng, sb.ID)
}

// TestDeadWarmSandboxIsReplaced kills an unclaimed warm sandbox's init: the pool replaces it
// and a claim gets a working sandbox.
func TestDeadWarmSandboxIsReplaced(t *testing.T) {
	eng, dir := newTestEngine(t, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 1})
	waitPoolReady(t, eng, 1)
	ents, err := os.ReadDir(filepath.Join(dir, "sandboxes"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("state dirs: %v, %v; want the warm sandbox's", ents, err)
	}
	dead := ents[0].Name()
	if err := syscall.Kill(initPid(t, dir, dead), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "sandboxes", dead)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dead warm sandbox was not removed")
		}
	}
	waitPoolReady(t, eng, 1)
	sb := mustCreate(t, eng, sandbox.Spec{})
	if sb.ID == dead {
		t.Fatal("the dead warm sandbox was handed out")
	}
	if got := shOK(t, eng, sb.ID, "echo ok"); got != "ok" {
		t.Errorf("claimed sandbox: %q", got)
	}
}

// BenchmarkStop measures a graceful stop of a sandbox whose processes exit on SIGTERM.
func BenchmarkStop(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	lat := newLatencies(b)
	defer lat.report()
	for b.Loop() {
		b.StopTimer()
		sb, err := eng.Create(ctx, sandbox.Spec{}, "")
		if err != nil {
			b.Fatal(err)
		}
		shOK(b, eng, sb.ID, "sleep 1000 >/dev/null 2>&1 &")
		b.StartTimer()
		lat.time(func() { _, err = eng.Stop(ctx, sb.ID) })
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := eng.Delete(ctx, sb.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
