package process_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	pb "github.com/paddock/paddock/proto/process"
)

func codeOf(err error) connect.Code {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr.Code()
	}
	return 0
}

func TestStdinAndCloseStdin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	s := begin(t, e, c, &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}, Tag: ptr("cat1")}, nil)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB: more than a pipe holds
	for _, in := range []string{"abc", big} {
		if _, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: tagSel("cat1"), Input: stdin(in)})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.CloseStdin(c, connect.NewRequest(&pb.CloseStdinRequest{Process: s.sel()})); err != nil {
		t.Fatal(err)
	}
	r := s.rest()
	if r.err != nil || r.stdout != "abc"+big || r.end.GetExitCode() != 0 {
		t.Errorf("cat: %d bytes, end %v, err %v", len(r.stdout), r.end, r.err)
	}
	_, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: s.sel(), Input: stdin("late")}))
	if codeOf(err) != connect.CodeNotFound {
		t.Errorf("input to an exited process: %v, want not_found", err)
	}
}

func TestStdinOption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// With stdin false, cat reads /dev/null and ends at once; absent means true.
	r := run(e, ctx(t), &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}, Stdin: ptr(false)}, nil)
	if r.err != nil || r.end.GetExitCode() != 0 {
		t.Errorf("cat with stdin false: end %v, err %v", r.end, r.err)
	}
	c := ctx(t)
	s := begin(t, e, c, &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "sleep", Args: []string{"30"}}, Stdin: ptr(false)}, nil)
	_, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: s.sel(), Input: stdin("x")}))
	if codeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("input with stdin false: %v, want failed_precondition", err)
	}
}

func TestSendInputGivesUpWithTheRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := begin(t, e, ctx(t), &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "sleep", Args: []string{"30"}}}, nil)
	c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	big := strings.Repeat("x", 1<<20) // sleep never reads it: the pipe fills up
	_, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: s.sel(), Input: stdin(big)}))
	if codeOf(err) != connect.CodeDeadlineExceeded {
		t.Fatalf("blocked input: %v, want deadline_exceeded", err)
	}
	// The service is not stuck: the process can still be killed and ends.
	if _, err := e.c.SendSignal(ctx(t), connect.NewRequest(&pb.SendSignalRequest{Process: s.sel(), Signal: pb.Signal_SIGNAL_SIGKILL})); err != nil {
		t.Fatal(err)
	}
	if r := s.rest(); r.end.GetStatus() != "signal: killed" {
		t.Errorf("end %v, err %v", r.end, r.err)
	}
}

func TestPTY(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	withPTY := func(script string) *pb.StartRequest {
		return &pb.StartRequest{Process: sh(script).Process, Pty: &pb.PTY{Size: &pb.PTY_Size{Cols: 80, Rows: 24}}}
	}
	r := run(e, c, withPTY("stty size; tty"), nil)
	if r.err != nil || !strings.Contains(r.pty, "24 80") || !strings.Contains(r.pty, "/dev/pts/") || r.stdout != "" {
		t.Errorf("pty output %q, stdout %q, err %v", r.pty, r.stdout, r.err)
	}

	s := begin(t, e, c, withPTY("read x; echo in=$x; stty size"), nil)
	if _, err := e.c.Update(c, connect.NewRequest(&pb.UpdateRequest{Process: s.sel(),
		Pty: &pb.PTY{Size: &pb.PTY_Size{Cols: 100, Rows: 40}}})); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.CloseStdin(c, connect.NewRequest(&pb.CloseStdinRequest{Process: s.sel()}))
	if codeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("CloseStdin of a terminal process: %v, want invalid_argument", err)
	}
	if _, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: s.sel(), Input: ptyIn("hello\n")})); err != nil {
		t.Fatal(err)
	}
	r = s.rest()
	if r.err != nil || !strings.Contains(r.pty, "in=hello") || !strings.Contains(r.pty, "40 100") {
		t.Errorf("pty output %q, err %v", r.pty, r.err)
	}

	plain := begin(t, e, c, sh("sleep 30"), nil)
	for name, call := range map[string]func() error{
		"resize": func() error {
			_, err := e.c.Update(c, connect.NewRequest(&pb.UpdateRequest{Process: plain.sel(), Pty: &pb.PTY{Size: &pb.PTY_Size{Cols: 1, Rows: 1}}}))
			return err
		},
		"pty input": func() error {
			_, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: plain.sel(), Input: ptyIn("x")}))
			return err
		},
	} {
		if err := call(); codeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s without a terminal: %v, want invalid_argument", name, err)
		}
	}
}

func TestSendSignal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		signal pb.Signal
		status string
	}{
		{"term", pb.Signal_SIGNAL_SIGTERM, "signal: terminated"},
		{"kill", pb.Signal_SIGNAL_SIGKILL, "signal: killed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx(t)
			s := begin(t, e, c, sh("sleep 30 & echo pid=$!; wait"), nil)
			s.waitOutput(t, "\n") // the group is complete once the pid is printed
			if _, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: s.sel(), Signal: tc.signal})); err != nil {
				t.Fatal(err)
			}
			r := s.rest()
			if r.end.GetStatus() != tc.status || r.end.GetExitCode() != -1 || r.end.GetExited() {
				t.Errorf("end %v, want %s", r.end, tc.status)
			}
			pid := printedPID(t, r.stdout)
			killOnCleanup(t, pid, "sleep")
			waitGone(t, pid) // the signal went to the whole group
			_, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: s.sel(), Signal: tc.signal}))
			if codeOf(err) != connect.CodeNotFound {
				t.Errorf("signal to an exited process: %v, want not_found", err)
			}
		})
	}
}

func TestListAndTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	a := begin(t, e, c, &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}, Tag: ptr("a")}, nil)
	b := begin(t, e, c, &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "sleep", Args: []string{"30"}}}, nil)
	list, err := e.c.List(c, connect.NewRequest(&pb.ListRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]*pb.ProcessInfo{}
	for _, p := range list.Msg.GetProcesses() {
		got[p.GetPid()] = p
	}
	if len(got) != 2 || got[a.pid].GetTag() != "a" || got[a.pid].GetConfig().GetCmd() != "cat" ||
		got[b.pid].Tag != nil || got[b.pid].GetConfig().GetArgs()[0] != "30" {
		t.Fatalf("list = %v", list.Msg.GetProcesses())
	}
	if _, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: tagSel("a"), Signal: pb.Signal_SIGNAL_SIGKILL})); err != nil {
		t.Fatal(err)
	}
	if r := a.rest(); r.end.GetStatus() != "signal: killed" {
		t.Fatalf("tagged process: end %v", r.end)
	}
	list, err = e.c.List(c, connect.NewRequest(&pb.ListRequest{}))
	if err != nil || len(list.Msg.GetProcesses()) != 1 || list.Msg.GetProcesses()[0].GetPid() != b.pid {
		t.Errorf("list after exit = %v, %v; want only pid %d", list.Msg.GetProcesses(), err, b.pid)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	s := begin(t, e, c, &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}}, nil)
	cases := []struct {
		name string
		call func() error
		code connect.Code
	}{
		{"signal unspecified", func() error {
			_, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: s.sel()}))
			return err
		}, connect.CodeInvalidArgument},
		{"signal unknown", func() error {
			_, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: s.sel(), Signal: pb.Signal(42)}))
			return err
		}, connect.CodeInvalidArgument},
		{"signal no selector", func() error {
			_, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Signal: pb.Signal_SIGNAL_SIGKILL}))
			return err
		}, connect.CodeInvalidArgument},
		{"signal unknown pid", func() error {
			_, err := e.c.SendSignal(c, connect.NewRequest(&pb.SendSignalRequest{Process: pidSel(999999999), Signal: pb.Signal_SIGNAL_SIGKILL}))
			return err
		}, connect.CodeNotFound},
		{"input no selector", func() error {
			_, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Input: stdin("x")}))
			return err
		}, connect.CodeInvalidArgument},
		{"input nil", func() error {
			_, err := e.c.SendInput(c, connect.NewRequest(&pb.SendInputRequest{Process: s.sel()}))
			return err
		}, connect.CodeInvalidArgument},
		{"close stdin unknown tag", func() error {
			_, err := e.c.CloseStdin(c, connect.NewRequest(&pb.CloseStdinRequest{Process: tagSel("nope")}))
			return err
		}, connect.CodeNotFound},
		{"update no selector", func() error {
			_, err := e.c.Update(c, connect.NewRequest(&pb.UpdateRequest{}))
			return err
		}, connect.CodeInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); codeOf(err) != tc.code {
				t.Errorf("err = %v, want %v", err, tc.code)
			}
		})
	}
	if _, err := e.c.CloseStdin(c, connect.NewRequest(&pb.CloseStdinRequest{Process: s.sel()})); err != nil {
		t.Fatal(err)
	}
	if r := s.rest(); r.end.GetExitCode() != 0 {
		t.Errorf("cat after the bad requests: end %v, err %v", r.end, r.err)
	}
}

func TestStreamInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := ctx(t)
	s := begin(t, e, c, &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}}, nil)
	in := e.c.StreamInput(c)
	msgs := []*pb.StreamInputRequest{
		{Event: &pb.StreamInputRequest_Start{Start: &pb.StreamInputRequest_StartEvent{Process: s.sel()}}},
		{Event: &pb.StreamInputRequest_Keepalive{Keepalive: &pb.StreamInputRequest_KeepAlive{}}},
		{Event: &pb.StreamInputRequest_Data{Data: &pb.StreamInputRequest_DataEvent{Input: stdin("one ")}}},
		{Event: &pb.StreamInputRequest_Data{Data: &pb.StreamInputRequest_DataEvent{Input: stdin("two")}}},
	}
	for _, m := range msgs {
		if err := in.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := in.CloseAndReceive(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CloseStdin(c, connect.NewRequest(&pb.CloseStdinRequest{Process: s.sel()})); err != nil {
		t.Fatal(err)
	}
	if r := s.rest(); r.stdout != "one two" {
		t.Errorf("stdout %q, err %v", r.stdout, r.err)
	}

	bad := e.c.StreamInput(c)
	_ = bad.Send(&pb.StreamInputRequest{Event: &pb.StreamInputRequest_Data{Data: &pb.StreamInputRequest_DataEvent{Input: stdin("x")}}})
	if _, err := bad.CloseAndReceive(); codeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("data before start: %v, want invalid_argument", err)
	}
}
