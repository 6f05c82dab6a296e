package process_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/paddock/paddock/proto/process"
)

// escapingScript starts sleepers that leave the command's process group in every way a
// shell can: a plain background job, one in a session of its own, and a new session whose
// shell starts yet another session. It prints their four pids.
const escapingScript = `sleep 300 & echo pid=$!
setsid sleep 300 & echo pid=$!
setsid sh -c 'setsid sleep 300 & echo pid=$!; sleep 300 & echo pid=$!; wait' &
wait`

// TestKillEndsTheWholeTree kills a command that spread over several sessions, by signal and
// by its deadline: when the kill is answered (or the end reported), nothing of it is left.
func TestKillEndsTheWholeTree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name string
		kill func(t *testing.T, s started) *pb.ProcessEvent_EndEvent
	}{
		{"signal", func(t *testing.T, s started) *pb.ProcessEvent_EndEvent {
			_, err := e.c.SendSignal(ctx(t), connect.NewRequest(&pb.SendSignalRequest{Process: s.sel(), Signal: pb.Signal_SIGNAL_SIGKILL}))
			if err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"deadline", func(t *testing.T, s started) *pb.ProcessEvent_EndEvent {
			s.rest()
			return connectTo(e, ctx(t), s.sel()).end // the end is retained once the tree is gone
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			s := begin(t, e, c, sh(escapingScript), nil)
			pids := waitPIDs(t, s, 4)
			end := tc.kill(t, s)
			for _, pid := range pids {
				if running(pid) {
					t.Errorf("process %d outlived the kill", pid)
				}
			}
			if end != nil && end.GetStatus() != "signal: killed" {
				t.Errorf("end %v, want signal: killed", end)
			}
		})
	}
}

// TestKillSparesOtherCommands kills one command's tree while another command, and a
// background job a finished command left behind, keep running.
func TestKillSparesOtherCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	left := run(e, c, sh("setsid sleep 300 & echo pid=$!"), nil)
	daemon := printedPID(t, left.stdout)
	killOnCleanup(t, daemon, "sleep")
	other := begin(t, e, c, sh("sleep 300 & echo pid=$!; wait"), nil)
	other.waitOutput(t, "\n")
	otherChild := printedPID(t, other.read.out.String())
	victim := begin(t, e, c, sh(escapingScript), nil)
	waitPIDs(t, victim, 4)
	if _, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: victim.sel(), Signal: pb.Signal_SIGNAL_SIGKILL})); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{daemon, int(other.pid), otherChild} {
		if !running(pid) {
			t.Errorf("process %d of another command was killed", pid)
		}
	}
	if _, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: other.sel(), Signal: pb.Signal_SIGNAL_SIGKILL})); err != nil {
		t.Fatal(err)
	}
}

// waitPIDs reads s until it printed n pids with `echo pid=$!`, and returns them.
func waitPIDs(t *testing.T, s started, n int) []int {
	t.Helper()
	for strings.Count(s.read.out.String(), "pid=") < n {
		if !s.stream.Receive() {
			t.Fatalf("stream ended before %d pids were printed: %v", n, s.stream.Err())
		}
		s.read.add(s.stream.Msg().GetEvent())
	}
	var pids []int
	for _, f := range strings.Fields(s.read.out.String()) {
		var pid int
		if _, err := fmt.Sscanf(f, "pid=%d", &pid); err == nil {
			pids = append(pids, pid)
			killOnCleanup(t, pid, "sleep")
		}
	}
	return pids
}

// running reports whether pid runs: not gone, nor a zombie waiting to be reaped.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || len(b) <= i+2 || b[i+2] != 'Z' && b[i+2] != 'X'
}
