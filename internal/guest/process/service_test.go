package process_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	pb "github.com/paddock/paddock/proto/process"
	"github.com/paddock/paddock/proto/process/processconnect"
)

func newClient(t *testing.T) (processconnect.ProcessClient, *process.Service) {
	t.Helper()
	svc := process.New(process.Options{Settings: guestenv.New("0"), Reaper: process.NewDirectReaper()})
	mux := http.NewServeMux()
	mux.Handle(processconnect.NewProcessHandler(svc))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { svc.KillAll(9); srv.Close() })
	return processconnect.NewProcessClient(srv.Client(), srv.URL), svc
}

type result struct {
	events []*pb.ProcessEvent
	stdout string
	stderr string
	pty    string
	end    *pb.ProcessEvent_EndEvent
	err    error
}

func collect(stream interface {
	Receive() bool
	Err() error
}, msg func() *pb.ProcessEvent) result {
	var r result
	for stream.Receive() {
		ev := msg()
		r.events = append(r.events, ev)
		if d := ev.GetData(); d != nil {
			r.stdout += string(d.GetStdout())
			r.stderr += string(d.GetStderr())
			r.pty += string(d.GetPty())
		}
		if e := ev.GetEnd(); e != nil {
			r.end = e
		}
	}
	r.err = stream.Err()
	return r
}

func start(t *testing.T, c processconnect.ProcessClient, ctx context.Context, req *pb.StartRequest, hdr map[string]string) result {
	t.Helper()
	r := connect.NewRequest(req)
	for k, v := range hdr {
		r.Header().Set(k, v)
	}
	s, err := c.Start(ctx, r)
	if err != nil {
		return result{err: err}
	}
	defer s.Close()
	return collect(s, func() *pb.ProcessEvent { return s.Msg().GetEvent() })
}

func sh(script string) *pb.StartRequest {
	return &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/bin/sh", Args: []string{"-c", script}}}
}

func TestStartStreamsAndExitCodes(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	r := start(t, c, ctx, sh("echo out; echo err >&2; exit 7"), nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.events[0].GetStart() == nil || r.events[0].GetStart().GetPid() == 0 {
		t.Fatalf("first event %v, want start with pid", r.events[0])
	}
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	if r.end.GetExitCode() != 7 || !r.end.GetExited() || r.end.GetStatus() != "exit status 7" {
		t.Errorf("end %v", r.end)
	}
	r = start(t, c, ctx, sh("kill -KILL $$"), nil)
	if r.end.GetExitCode() != -1 || r.end.GetExited() || r.end.GetStatus() != "signal: killed" {
		t.Errorf("signalled end %v", r.end)
	}
}

func TestKeepaliveAfterStart(t *testing.T) {
	c, _ := newClient(t)
	r := start(t, c, context.Background(), sh("sleep 2.5; echo done"), map[string]string{"Keepalive-Ping-Interval": "1"})
	if r.events[0].GetStart() == nil {
		t.Fatal("keepalive or data before the start event")
	}
	n := 0
	for _, ev := range r.events {
		if ev.GetKeepalive() != nil {
			n++
		}
	}
	if n < 1 || r.stdout != "done\n" {
		t.Errorf("keepalives %d, stdout %q", n, r.stdout)
	}
}

func TestConnectTimeoutKillsProcess(t *testing.T) {
	c, svc := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	r := start(t, c, ctx, sh("sleep 30"), nil)
	if connect.CodeOf(r.err) != connect.CodeDeadlineExceeded && !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline_exceeded", r.err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for svc.Running() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if svc.Running() != 0 {
		t.Error("process outlived its Connect-Timeout-Ms")
	}
}

func TestBackgroundGrandchildDoesNotHangStream(t *testing.T) {
	c, _ := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := start(t, c, ctx, sh("sleep 20 & echo started"), nil)
	if r.err != nil || r.end == nil || r.stdout != "started\n" {
		t.Fatalf("stream: %q end=%v err=%v", r.stdout, r.end, r.err)
	}
}

func TestStdinAndCloseStdin(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	stream, err := c.Start(ctx, connect.NewRequest(&pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}, Tag: ptr("cat1")}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	sel := &pb.ProcessSelector{Selector: &pb.ProcessSelector_Tag{Tag: "cat1"}}
	if _, err := c.SendInput(ctx, connect.NewRequest(&pb.SendInputRequest{Process: sel,
		Input: &pb.ProcessInput{Input: &pb.ProcessInput_Stdin{Stdin: []byte("abc")}}})); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, connect.NewRequest(&pb.ListRequest{}))
	if err != nil || len(list.Msg.GetProcesses()) != 1 || list.Msg.GetProcesses()[0].GetTag() != "cat1" {
		t.Errorf("list = %v, %v", list, err)
	}
	if _, err := c.CloseStdin(ctx, connect.NewRequest(&pb.CloseStdinRequest{Process: sel})); err != nil {
		t.Fatal(err)
	}
	r := collect(stream, func() *pb.ProcessEvent { return stream.Msg().GetEvent() })
	if r.stdout != "abc" || r.end.GetExitCode() != 0 {
		t.Errorf("cat: %q %v", r.stdout, r.end)
	}
}

func TestStdinFalseIsDevNull(t *testing.T) {
	c, _ := newClient(t)
	f := false
	req := &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "cat"}, Stdin: &f}
	r := start(t, c, context.Background(), req, nil)
	if r.err != nil || r.end.GetExitCode() != 0 {
		t.Errorf("cat with stdin false: %v %v", r.end, r.err)
	}
}

func TestPTYOutputAndResize(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	req := &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/bin/sh", Args: []string{"-c", "sleep 0.3; stty size; tty"}},
		Pty: &pb.PTY{Size: &pb.PTY_Size{Cols: 80, Rows: 24}}}
	stream, err := c.Start(ctx, connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	pid := stream.Msg().GetEvent().GetStart().GetPid()
	sel := &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}
	if _, err := c.Update(ctx, connect.NewRequest(&pb.UpdateRequest{Process: sel,
		Pty: &pb.PTY{Size: &pb.PTY_Size{Cols: 100, Rows: 40}}})); err != nil {
		t.Fatal(err)
	}
	r := collect(stream, func() *pb.ProcessEvent { return stream.Msg().GetEvent() })
	if !strings.Contains(r.pty, "40 100") || !strings.Contains(r.pty, "/dev/pts/") {
		t.Errorf("pty output %q", r.pty)
	}
	if _, err := c.CloseStdin(ctx, connect.NewRequest(&pb.CloseStdinRequest{Process: sel})); err == nil {
		t.Error("CloseStdin on an exited pty process succeeded")
	}
}

func TestConnectToRunningAndExited(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	stream, err := c.Start(ctx, connect.NewRequest(sh("sleep 0.5; echo late")))
	if err != nil || !stream.Receive() {
		t.Fatal(err, stream.Err())
	}
	pid := stream.Msg().GetEvent().GetStart().GetPid()
	stream.Close() // the SDK pattern: disconnect, reconnect by pid
	sel := &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}
	cs, err := c.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: sel}))
	if err != nil {
		t.Fatal(err)
	}
	r := collect(cs, func() *pb.ProcessEvent { return cs.Msg().GetEvent() })
	if r.events[0].GetStart().GetPid() != pid || r.stdout != "late\n" || r.end == nil {
		t.Errorf("connect to running: %+v", r)
	}
	cs2, err := c.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: sel}))
	if err != nil {
		t.Fatal(err)
	}
	r = collect(cs2, func() *pb.ProcessEvent { return cs2.Msg().GetEvent() })
	if len(r.events) != 2 || r.events[0].GetStart() == nil || r.end == nil {
		t.Errorf("connect to exited: %v", r.events)
	}
	_, err = c.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: 999999}}}))
	if err == nil {
		cs3, _ := c.Connect(ctx, connect.NewRequest(&pb.ConnectRequest{Process: &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: 999999}}}))
		cs3.Receive()
		err = cs3.Err()
	}
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("unknown pid: %v", err)
	}
}

func TestSendSignal(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	stream, err := c.Start(ctx, connect.NewRequest(sh("sleep 30")))
	if err != nil || !stream.Receive() {
		t.Fatal(err)
	}
	pid := stream.Msg().GetEvent().GetStart().GetPid()
	if _, err := c.SendSignal(ctx, connect.NewRequest(&pb.SendSignalRequest{
		Process: &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}, Signal: pb.Signal_SIGNAL_SIGTERM})); err != nil {
		t.Fatal(err)
	}
	r := collect(stream, func() *pb.ProcessEvent { return stream.Msg().GetEvent() })
	if r.end.GetStatus() != "signal: terminated" {
		t.Errorf("end %v", r.end)
	}
}

func TestUserEnvCwdAndErrors(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	hdr := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("nobody:"))}
	cwd := "/tmp"
	req := &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/bin/sh", Args: []string{"-c", "id -un; echo $FOO; pwd; echo $HOME"},
		Envs: map[string]string{"FOO": "bar"}, Cwd: &cwd}}
	r := start(t, c, ctx, req, hdr)
	if r.stdout != "nobody\nbar\n/tmp\n/nonexistent\n" {
		t.Errorf("as nobody: %q (%v)", r.stdout, r.err)
	}
	cases := map[string]struct {
		req  *pb.StartRequest
		hdr  map[string]string
		code connect.Code
	}{
		"unknown user":   {sh("true"), map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("ghost:"))}, connect.CodeUnauthenticated},
		"missing cwd":    {&pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "true", Cwd: ptr("/nope/nope")}}, nil, connect.CodeInvalidArgument},
		"no such binary": {&pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "no-such-binary-xyz"}}, nil, connect.CodeNotFound},
		"empty cmd":      {&pb.StartRequest{Process: &pb.ProcessConfig{}}, nil, connect.CodeInvalidArgument},
		"nil process":    {&pb.StartRequest{}, nil, connect.CodeInvalidArgument},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := start(t, c, ctx, tc.req, tc.hdr)
			if connect.CodeOf(r.err) != tc.code {
				t.Errorf("err = %v, want %v", r.err, tc.code)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
