package process_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	pb "github.com/paddock/paddock/proto/process"
	"github.com/paddock/paddock/proto/process/processconnect"
)

// waitLimit bounds how long a test waits for something that should happen; tests fail
// instead of hanging, but never assert how long anything took.
const waitLimit = 20 * time.Second

type env struct {
	url      string
	c        processconnect.ProcessClient
	svc      *process.Service
	settings *guestenv.Settings
}

// serve runs svc behind a real connect handler on loopback HTTP/1.1, as the SDKs reach envd.
func serve(t *testing.T, svc *process.Service, settings *guestenv.Settings) env {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(processconnect.NewProcessHandler(svc))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { svc.KillAll(syscall.SIGKILL); srv.Close() })
	return env{url: srv.URL, c: processconnect.NewProcessClient(srv.Client(), srv.URL), svc: svc, settings: settings}
}

func newEnv(t *testing.T) env {
	t.Helper()
	settings := guestenv.New("0")
	svc := process.New(process.Options{Settings: settings, Reaper: process.NewDirectReaper()})
	return serve(t, svc, settings)
}

// ctx is a context that ends before the test's own timeout would.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return c
}

type result struct {
	events []*pb.ProcessEvent
	stdout string
	stderr string
	pty    string
	end    *pb.ProcessEvent_EndEvent
	err    error

	out, errOut, term strings.Builder
}

type eventStream interface {
	Receive() bool
	Err() error
}

// collect reads a Start or Connect stream to its end.
func collect(s eventStream, msg func() *pb.ProcessEvent) *result {
	r := &result{}
	for s.Receive() {
		r.add(msg())
	}
	r.err = s.Err()
	r.stdout, r.stderr, r.pty = r.out.String(), r.errOut.String(), r.term.String()
	return r
}

func (r *result) add(ev *pb.ProcessEvent) {
	if ev.GetData() == nil {
		r.events = append(r.events, ev) // data events are kept only as text: output may be large
	}
	if d := ev.GetData(); d != nil {
		r.out.Write(d.GetStdout())
		r.errOut.Write(d.GetStderr())
		r.term.Write(d.GetPty())
	}
	if e := ev.GetEnd(); e != nil {
		r.end = e
	}
}

// started is a Start stream whose start event has been received.
type started struct {
	stream *connect.ServerStreamForClient[pb.StartResponse]
	pid    uint32
	read   *result // what has been read so far
}

func (s started) sel() *pb.ProcessSelector { return pidSel(s.pid) }

// waitOutput reads events until the stdout or terminal output contains want.
func (s started) waitOutput(t *testing.T, want string) {
	t.Helper()
	for !strings.Contains(s.read.out.String()+s.read.term.String(), want) {
		if !s.stream.Receive() {
			t.Fatalf("stream ended before output %q: %v", want, s.stream.Err())
		}
		s.read.add(s.stream.Msg().GetEvent())
	}
}

// rest reads the stream to its end; the result includes what was read before.
func (s started) rest() *result {
	r := s.read
	for s.stream.Receive() {
		r.add(s.stream.Msg().GetEvent())
	}
	r.err = s.stream.Err()
	r.stdout, r.stderr, r.pty = r.out.String(), r.errOut.String(), r.term.String()
	return r
}

func startReq(req *pb.StartRequest, hdr map[string]string) *connect.Request[pb.StartRequest] {
	r := connect.NewRequest(req)
	for k, v := range hdr {
		r.Header().Set(k, v)
	}
	return r
}

// begin starts a process and waits for its start event.
func begin(t *testing.T, e env, c context.Context, req *pb.StartRequest, hdr map[string]string) started {
	t.Helper()
	s, err := e.c.Start(c, startReq(req, hdr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !s.Receive() {
		t.Fatalf("no start event: %v", s.Err())
	}
	ev := s.Msg().GetEvent()
	if ev.GetStart() == nil || ev.GetStart().GetPid() == 0 {
		t.Fatalf("first event %v, want start with a pid", ev)
	}
	r := &result{}
	r.add(ev)
	return started{stream: s, pid: ev.GetStart().GetPid(), read: r}
}

// run starts a process and reads its stream to the end.
func run(e env, c context.Context, req *pb.StartRequest, hdr map[string]string) *result {
	s, err := e.c.Start(c, startReq(req, hdr))
	if err != nil {
		return &result{err: err}
	}
	defer s.Close()
	return collect(s, func() *pb.ProcessEvent { return s.Msg().GetEvent() })
}

func connectTo(e env, c context.Context, sel *pb.ProcessSelector) *result {
	s, err := e.c.Connect(c, connect.NewRequest(&pb.ConnectRequest{Process: sel}))
	if err != nil {
		return &result{err: err}
	}
	defer s.Close()
	return collect(s, func() *pb.ProcessEvent { return s.Msg().GetEvent() })
}

func sh(script string) *pb.StartRequest {
	return &pb.StartRequest{Process: &pb.ProcessConfig{Cmd: "/bin/sh", Args: []string{"-c", script}}}
}

func pidSel(pid uint32) *pb.ProcessSelector {
	return &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}
}

func tagSel(tag string) *pb.ProcessSelector {
	return &pb.ProcessSelector{Selector: &pb.ProcessSelector_Tag{Tag: tag}}
}

func stdin(b string) *pb.ProcessInput {
	return &pb.ProcessInput{Input: &pb.ProcessInput_Stdin{Stdin: []byte(b)}}
}

func ptyIn(b string) *pb.ProcessInput {
	return &pb.ProcessInput{Input: &pb.ProcessInput_Pty{Pty: []byte(b)}}
}

func basicAuth(user string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"))}
}

func ptr[T any](v T) *T { return &v }

// killOnCleanup kills a grandchild the test made, by the pid it printed, if that pid still
// runs the command the test started there.
func killOnCleanup(t *testing.T, pid int, cmd string) {
	t.Cleanup(func() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.HasPrefix(string(b), cmd+"\x00") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// printedPID finds the pid a script printed with `echo pid=$!`.
func printedPID(t *testing.T, out string) int {
	t.Helper()
	i := strings.Index(out, "pid=")
	if i < 0 {
		t.Fatalf("no pid in output %q", out)
	}
	var pid int
	if _, err := fmt.Sscanf(out[i:], "pid=%d", &pid); err != nil {
		t.Fatalf("no pid in output %q: %v", out, err)
	}
	return pid
}

// waitGone waits until pid has exited (gone, or a zombie nobody reaped yet).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && len(b) > i+2 && b[i+2] == 'Z' {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d still runs", pid)
}
