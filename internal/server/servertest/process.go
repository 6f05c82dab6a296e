package servertest

import (
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Process is a server running as a process of its own (a replica), so that a test can run
// several on one database and kill one. The test's cleanup ends it by PID.
type Process struct {
	URL  string
	Cmd  *exec.Cmd
	Logs *Logs // its stdout and stderr

	exited chan struct{} // closed once the process has been waited for
}

// FreeAddr is a loopback address with a free port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartProcess runs bin with args, which must make it serve HTTP on addr (fakeserve, or
// `paddock serve --driver ...`), and waits up to 30 s for its /health to answer.
func StartProcess(t testing.TB, addr, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{URL: "http://" + addr, Cmd: exec.Command(bin, args...), Logs: &Logs{}, exited: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = p.Logs, p.Logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := p.exited
	go func() { _ = p.Cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = p.Cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/health")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before serving:\n%s", bin, p.Logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not serve within 30 s:\n%s", bin, p.Logs)
		}
	}
}

// Kill ends the process with SIGKILL (kill -9) and waits for it.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}
