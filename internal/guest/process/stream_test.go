package process_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/paddock/paddock/proto/process"
)

// checkShape asserts the stream contract: start first, exactly one end, and it is last.
func checkShape(t *testing.T, r *result) {
	t.Helper()
	if len(r.events) == 0 || r.events[0].GetStart() == nil {
		t.Fatalf("first event is not start: %v", r.events)
	}
	for i, ev := range r.events {
		if (ev.GetEnd() != nil) != (i == len(r.events)-1) {
			t.Fatalf("event %d of %d is %v: want exactly one end, last", i, len(r.events), ev)
		}
	}
}

func TestStartOutputAndExit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name, script   string
		stdout, stderr string
		code           int32
		exited         bool
		status         string
	}{
		{"exit 0", "printf hi", "hi", "", 0, true, "exit status 0"},
		{"stdout stderr exit 7", "echo out; echo err >&2; exit 7", "out\n", "err\n", 7, true, "exit status 7"},
		{"killed", "echo before; kill -KILL $$", "before\n", "", -1, false, "signal: killed"},
		{"terminated", "kill -TERM $$", "", "", -1, false, "signal: terminated"},
		{"output before exit is kept", "head -c 300000 /dev/zero | tr '\\0' a; exit 3", strings.Repeat("a", 300000), "", 3, true, "exit status 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(e, ctx(t), sh(tc.script), nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			checkShape(t, r)
			if r.stdout != tc.stdout || r.stderr != tc.stderr {
				t.Errorf("stdout %.40q (%d bytes), stderr %q; want %.40q, %q", r.stdout, len(r.stdout), r.stderr, tc.stdout, tc.stderr)
			}
			end := r.end
			if end.GetExitCode() != tc.code || end.GetExited() != tc.exited || end.GetStatus() != tc.status {
				t.Errorf("end %v, want code %d exited %v status %q", end, tc.code, tc.exited, tc.status)
			}
			wantErr := tc.status
			if tc.code == 0 {
				wantErr = ""
			}
			if end.GetError() != wantErr || (end.Error != nil) != (wantErr != "") {
				t.Errorf("end error %v, want %q", end.Error, wantErr)
			}
		})
	}
}

func TestKeepaliveAfterStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := run(e, ctx(t), sh("sleep 2.5; echo done"), map[string]string{"Keepalive-Ping-Interval": "1"})
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkShape(t, r)
	n := 0
	for _, ev := range r.events {
		if ev.GetKeepalive() != nil {
			n++
		}
	}
	if n == 0 || r.stdout != "done\n" {
		t.Errorf("keepalives %d, stdout %q; want at least one keepalive and the output", n, r.stdout)
	}
}

func TestConnectTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s := begin(t, e, c, sh("sleep 30 & echo pid=$!; wait"), nil)
	s.waitOutput(t, "\n")
	r := s.rest()
	if code := connect.CodeOf(r.err); code != connect.CodeDeadlineExceeded {
		t.Fatalf("stream error %v (%v), want deadline_exceeded", r.err, code)
	}
	after := connectTo(e, ctx(t), s.sel())
	if after.err != nil || after.end.GetStatus() != "signal: killed" {
		t.Fatalf("process after its deadline: end %v, err %v; want signal: killed", after.end, after.err)
	}
	pid := printedPID(t, r.stdout)
	killOnCleanup(t, pid, "sleep")
	waitGone(t, pid) // the whole group was killed
}

// TestConnectTimeoutOnTheWire checks what an SDK sees, with nothing enforcing the timeout
// on the client side: the stream's end-stream frame carries deadline_exceeded.
func TestConnectTimeoutOnTheWire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := []byte(`{"process":{"cmd":"sleep","args":["30"]},"stdin":false}`)
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(body)))
	frame = append(frame, body...)
	req, err := http.NewRequestWithContext(ctx(t), "POST", e.url+"/process.Process/Start", bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/connect+json")
	req.Header.Set("Connect-Timeout-Ms", "1000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var frames []string
	var last byte
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(resp.Body, hdr[:]); err != nil {
			break
		}
		msg := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(resp.Body, msg); err != nil {
			t.Fatal(err)
		}
		frames, last = append(frames, string(msg)), hdr[0]
	}
	if resp.StatusCode != 200 || len(frames) < 2 || !strings.Contains(frames[0], `"start"`) ||
		last != 2 || !strings.Contains(frames[len(frames)-1], `"deadline_exceeded"`) {
		t.Fatalf("status %d, frames %q (last flag %d); want start first and a deadline_exceeded end-stream", resp.StatusCode, frames, last)
	}
	var first struct {
		Event struct{ Start struct{ Pid uint32 } }
	}
	if err := json.Unmarshal([]byte(frames[0]), &first); err != nil || first.Event.Start.Pid == 0 {
		t.Fatalf("start frame %q: %v", frames[0], err)
	}
	if r := connectTo(e, ctx(t), pidSel(first.Event.Start.Pid)); r.end.GetStatus() != "signal: killed" {
		t.Errorf("process after its deadline: end %v, err %v; want signal: killed", r.end, r.err)
	}
}

func TestBackgroundGrandchildDoesNotHangStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The grandchild ignores SIGHUP so that, with a terminal, it keeps the terminal open after
	// the session leader exits.
	script := "(trap '' HUP; exec sleep 5) & echo pid=$!"
	cases := []struct {
		name string
		req  *pb.StartRequest
		out  func(*result) string
	}{
		{"pipes", sh(script), func(r *result) string { return r.stdout }},
		{"terminal", &pb.StartRequest{Process: sh(script).Process, Pty: &pb.PTY{Size: &pb.PTY_Size{Cols: 80, Rows: 24}}},
			func(r *result) string { return r.pty }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(e, ctx(t), tc.req, nil)
			if r.err != nil || r.end.GetExitCode() != 0 {
				t.Fatalf("end %v, err %v", r.end, r.err)
			}
			checkShape(t, r)
			killOnCleanup(t, printedPID(t, tc.out(r)), "sleep")
		})
	}
}

func TestEndlessGrandchildOutputIsCut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := run(e, ctx(t), sh("yes & echo pid=$!"), nil)
	if r.err != nil || r.end == nil {
		t.Fatalf("end %v, err %v", r.end, r.err)
	}
	killOnCleanup(t, printedPID(t, r.stdout), "yes")
}

func TestOutputWithoutReaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := begin(t, e, ctx(t), sh("head -c 4000000 /dev/zero; echo done"), nil)
	s.stream.Close() // nobody reads the 4 MB: the process must still finish
	r := connectTo(e, ctx(t), s.sel())
	if r.err != nil || r.end.GetExitCode() != 0 || !r.end.GetExited() {
		t.Fatalf("end %v, err %v", r.end, r.err)
	}
}

func TestSeveralSubscribers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	s := begin(t, e, c, sh("read line; echo got $line"), nil)
	cs, err := e.c.Connect(c, connect.NewRequest(&pb.ConnectRequest{Process: s.sel()}))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if !cs.Receive() || cs.Msg().GetEvent().GetStart().GetPid() != s.pid {
		t.Fatalf("connect: no start event with pid %d: %v", s.pid, cs.Err())
	}
	if _, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: s.sel(), Input: stdin("x\n")})); err != nil {
		t.Fatal(err)
	}
	both := map[string]*result{
		"start":   s.rest(),
		"connect": collect(cs, func() *pb.ProcessEvent { return cs.Msg().GetEvent() }),
	}
	for name, r := range both {
		if r.err != nil || r.stdout != "got x\n" || r.end.GetExitCode() != 0 {
			t.Errorf("%s stream: stdout %q end %v err %v", name, r.stdout, r.end, r.err)
		}
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	s := begin(t, e, c, &pb.StartRequest{Process: sh("read l; echo late $l").Process, Tag: ptr("job")}, nil)
	s.stream.Close() // the SDK pattern: disconnect, then reconnect by pid

	cs, err := e.c.Connect(c, connect.NewRequest(&pb.ConnectRequest{Process: s.sel()}))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if !cs.Receive() || cs.Msg().GetEvent().GetStart().GetPid() != s.pid {
		t.Fatalf("connect to running: no start event: %v", cs.Err())
	}
	if _, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: tagSel("job"), Input: stdin("1\n")})); err != nil {
		t.Fatal(err)
	}
	r := collect(cs, func() *pb.ProcessEvent { return cs.Msg().GetEvent() })
	if r.err != nil || r.stdout != "late 1\n" || r.end.GetExitCode() != 0 {
		t.Fatalf("connect to running: stdout %q end %v err %v", r.stdout, r.end, r.err)
	}

	for name, sel := range map[string]*pb.ProcessSelector{"pid": s.sel(), "tag": tagSel("job")} {
		t.Run("exited by "+name, func(t *testing.T) {
			r := connectTo(e, c, sel)
			if r.err != nil || len(r.events) != 2 || r.events[0].GetStart().GetPid() != s.pid || r.end.GetExitCode() != 0 || !r.end.GetExited() {
				t.Errorf("connect to exited: events %v, err %v; want start and the retained end", r.events, r.err)
			}
		})
	}

	errCases := []struct {
		name string
		sel  *pb.ProcessSelector
		code connect.Code
		msg  string
	}{
		{"unknown pid", pidSel(999999999), connect.CodeNotFound, "process with pid 999999999 not found"},
		{"unknown tag", tagSel("nope"), connect.CodeNotFound, "process with tag nope not found"},
		{"no selector", nil, connect.CodeInvalidArgument, ""},
		{"empty selector", &pb.ProcessSelector{}, connect.CodeInvalidArgument, ""},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			r := connectTo(e, c, tc.sel)
			var cerr *connect.Error
			if !errors.As(r.err, &cerr) || cerr.Code() != tc.code || (tc.msg != "" && cerr.Message() != tc.msg) {
				t.Errorf("err = %v, want %v %q", r.err, tc.code, tc.msg)
			}
		})
	}
}
