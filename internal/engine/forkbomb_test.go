package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Fork bombs whose first process stays until it is killed, so that the command ends by its
// timeout or a kill rather than by exiting. The bash one keeps every process in the command's
// process group; the python one puts each child in a session of its own, out of the group.
const (
	bashBomb   = `:(){ :|:& };:; exec sleep 600`
	pythonBomb = `exec python3 -c '
import os
while True:
    try:
        if os.fork() == 0:
            os.setsid()
    except OSError:
        pass
'`
)

// TestForkBombEndsWithItsCommand runs fork bombs with a short timeout: when the exec returns
// the sandbox holds only the guest, and the next commands all run.
func TestForkBombEndsWithItsCommand(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	for _, c := range []struct{ name, script string }{{"bash", bashBomb}, {"python setsid", pythonBomb}} {
		t.Run(c.name, func(t *testing.T) {
			sb := mustCreate(t, eng, sandbox.Spec{Name: "bomb-" + strings.Fields(c.name)[0]})
			for round := 1; round <= 3; round++ {
				res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"bash", "-c", c.script}, Timeout: 2 * time.Second})
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if !res.TimedOut {
					t.Fatalf("round %d: the bomb ended with exit %d (%s), want its timeout", round, res.ExitCode, res.Reason)
				}
				if left := userProcesses(t, eng, sb.ID); len(left) > 0 {
					t.Errorf("round %d: %d processes outlived the command, e.g. %v", round, len(left), left[:min(len(left), 5)])
				}
				for i := range 10 {
					res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"echo", "ok"}, Timeout: time.Minute})
					if err != nil || res.ExitCode != 0 || string(res.Stdout) != "ok\n" {
						t.Fatalf("round %d: exec %d after the bomb: %+v, %v", round, i+1, res, err)
					}
				}
			}
		})
	}
}

// TestKillFindsOrphans: a command whose child left in a session of its own and whose parent
// then exited (a double fork: the child is reparented to the guest and has lost its
// ancestry) is still ended with its command at the timeout, found by the stdout it
// inherited. A bomb whose processes the OOM killer picks (the leader among them) loses its
// ancestry the same way; this failed CI once, with 1023 processes left.
func TestKillFindsOrphans(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{Name: "orphans"})
	script := `sh -c 'setsid sleep 300 & echo $! > /tmp/daemon'; setsid sh -c 'exec sleep 301' & exec sleep 302`
	res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: script, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut {
		t.Fatalf("the command ended with exit %d (%s), want its timeout", res.ExitCode, res.Reason)
	}
	if left := userProcesses(t, eng, sb.ID); len(left) > 0 {
		ps := shOK(t, eng, sb.ID, "for p in "+strings.Join(left, " ")+"; do cat /proc/$p/cmdline | tr '\\0' ' '; echo; done")
		t.Errorf("%d processes outlived the command: %s", len(left), ps)
	}
	// What a finished command left behind is not its tree any more: it keeps running.
	shOK(t, eng, sb.ID, "setsid sleep 303 > /dev/null 2>&1 < /dev/null & echo started")
	before := userProcesses(t, eng, sb.ID)
	if _, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "exec sleep 304", Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if after := userProcesses(t, eng, sb.ID); len(after) != len(before) || len(before) != 1 {
		t.Errorf("another command's daemon: %v before a kill, %v after; want it alone and kept", before, after)
	}
}

// TestForkBombGuestSurvivesPidsLimit fills the sandbox's pids limit with a fork bomb and
// then sends 300 concurrent uploads and execs: the guest must keep answering (it used to die
// when its Go runtime could not get a thread), and once the bomb is killed commands run again.
func TestForkBombGuestSurvivesPidsLimit(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{Name: "bombload", Pids: 128})
	guest := guestStartTime(t, eng, sb.ID)
	bomb, err := eng.StartProcess(ctx, sb.ID, manager.Command{Args: []string{"/bin/bash", "-c", bashBomb}})
	if err != nil {
		t.Fatal(err)
	}
	defer bomb.Close()
	waitPidsFull(t, eng, sb.ID)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	data := bytes.Repeat([]byte("x"), 64<<10)
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%3 == 0 {
				// Execs may fail for want of pids; only a dead guest is a failure here.
				_, err = eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}, Timeout: 30 * time.Second})
				if errors.Is(err, errdefs.ErrResourceExhausted) {
					err = nil
				}
			} else {
				err = eng.WriteFile(ctx, sb.ID, fmt.Sprintf("/tmp/up/%d", i), "", bytes.NewReader(data))
			}
			if err != nil {
				mu.Lock()
				failed = append(failed, err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d of 300 requests failed during the bomb, e.g. %s", len(failed), failed[0])
	}
	if _, err := eng.StatFile(ctx, sb.ID, "/tmp/up/1", ""); err != nil {
		t.Errorf("the guest does not answer during the bomb: %v", err)
	}

	if err := bomb.Signal(ctx, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the bomb: %v", err)
	}
	if left := userProcesses(t, eng, sb.ID); len(left) > 0 {
		t.Errorf("%d processes outlived the killed bomb, e.g. %v", len(left), left[:min(len(left), 5)])
	}
	if got := shOK(t, eng, sb.ID, "echo alive"); got != "alive" {
		t.Errorf("exec after the bomb: %q", got)
	}
	if now := guestStartTime(t, eng, sb.ID); now != guest {
		t.Errorf("the guest was replaced during the bomb (start time %s, then %s)", guest, now)
	}
}

// userProcesses lists the sandbox's processes other than the guest (PID 1) and the one
// process that lists them.
func userProcesses(t *testing.T, eng *Engine, id string) []string {
	t.Helper()
	res, err := eng.Exec(context.Background(), id, manager.ExecRequest{Shell: "echo $$; exec ls /proc", Timeout: time.Minute})
	if err != nil {
		t.Fatalf("list processes: %v", err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("list processes: exit %d (%s)", res.ExitCode, res.Reason)
	}
	lines := strings.Fields(string(res.Stdout))
	if len(lines) == 0 {
		t.Fatalf("list processes: no output")
	}
	var out []string
	for _, l := range lines[1:] {
		if _, err := strconv.Atoi(l); err == nil && l != "1" && l != lines[0] {
			out = append(out, l)
		}
	}
	return out
}

// guestStartTime is the start time of the sandbox's PID 1 (field 22 of /proc/1/stat): it
// changes when the guest is replaced.
func guestStartTime(t *testing.T, eng *Engine, id string) string {
	t.Helper()
	stat := shOK(t, eng, id, "cat /proc/1/stat")
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(fields) < 20 {
		t.Fatalf("/proc/1/stat: %q", stat)
	}
	return fields[19]
}

// waitPidsFull waits until the sandbox's processes reach its pids limit.
func waitPidsFull(t *testing.T, eng *Engine, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := eng.Stats(context.Background(), id)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		if st != nil && st.PidsLimit > 0 && st.Pids+4 >= st.PidsLimit {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bomb never reached the pids limit: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
