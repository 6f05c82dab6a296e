package sshgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// Payloads of the session requests (RFC 4254 section 6).
type (
	ptyReq struct {
		Term                      string
		Cols, Rows, Width, Height uint32
		Modes                     string
	}
	windowChange struct{ Cols, Rows, Width, Height uint32 }
	envReq       struct{ Name, Value string }
	execReq      struct{ Command string }
	signalReq    struct{ Name string }
	exitStatus   struct{ Status uint32 }
)

// session is one session channel: it collects env and pty-req, starts one shell or command
// through the Opener, and relays stdin, output, window changes and the exit status.
type session struct {
	s     *Server
	ctx   context.Context // the connection's
	agent string
	ch    ssh.Channel
	log   *slog.Logger

	env  map[string]string
	term string
	tty  *manager.TTYSize

	mu   sync.Mutex
	proc Process // set once started; guarded by mu
	done chan struct{}
}

// serve handles the channel's requests until the client closes it, then kills the process
// if it still runs (as sshd hangs up a session whose client left).
func (ss *session) serve(reqs <-chan *ssh.Request) {
	ctx, cancel := context.WithCancel(ss.ctx)
	defer cancel()
	defer ss.ch.Close()
	for {
		var req *ssh.Request
		var ok bool
		select {
		case req, ok = <-reqs:
		case <-ctx.Done():
		}
		if !ok {
			break
		}
		ok, then := ss.request(ctx, req)
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if then != nil {
			then() // after the reply: it may close the channel
		}
	}
	ss.mu.Lock()
	p, done := ss.proc, ss.done
	ss.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case <-done:
	default:
		kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = p.Signal(kctx, syscall.SIGKILL)
		kcancel()
		cancel()
		<-done
	}
}

// request handles one request and says whether it succeeded, and what to do once the reply
// is sent.
func (ss *session) request(ctx context.Context, req *ssh.Request) (bool, func()) {
	switch req.Type {
	case "shell":
		return ss.start(ctx, ss.s.cfg.Shell)
	case "exec":
		var e execReq
		if ssh.Unmarshal(req.Payload, &e) != nil {
			return false, nil
		}
		return ss.start(ctx, []string{"/bin/sh", "-c", e.Command})
	}
	return ss.setting(ctx, req), nil
}

// setting handles a request other than shell and exec.
func (ss *session) setting(ctx context.Context, req *ssh.Request) bool {
	switch req.Type {
	case "env":
		var e envReq
		if ssh.Unmarshal(req.Payload, &e) != nil {
			return false
		}
		return ss.setEnv(e.Name, e.Value)
	case "pty-req":
		var p ptyReq
		if ssh.Unmarshal(req.Payload, &p) != nil || ss.started() {
			return false
		}
		ss.term, ss.tty = p.Term, &manager.TTYSize{Rows: max(p.Rows, 1), Cols: max(p.Cols, 1)}
		return true
	case "window-change":
		var w windowChange
		if ssh.Unmarshal(req.Payload, &w) != nil {
			return false
		}
		return ss.resize(ctx, manager.TTYSize{Rows: max(w.Rows, 1), Cols: max(w.Cols, 1)})
	case "signal":
		var sg signalReq
		if ssh.Unmarshal(req.Payload, &sg) != nil {
			return false
		}
		return ss.signal(ctx, sg.Name)
	}
	// subsystem (sftp), x11-req, auth-agent-req@openssh.com and the rest are refused.
	return false
}

// setEnv keeps the variables OpenSSH's default SendEnv passes (LANG, LC_*) and refuses the
// rest, as sshd's AcceptEnv does.
func (ss *session) setEnv(name, value string) bool {
	if ss.started() || !(name == "LANG" || strings.HasPrefix(name, "LC_")) || manager.ValidateEnv(map[string]string{name: value}) != nil {
		return false
	}
	if ss.env == nil {
		ss.env = map[string]string{}
	}
	ss.env[name] = value
	return true
}

func (ss *session) started() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.done != nil
}

func (ss *session) resize(ctx context.Context, size manager.TTYSize) bool {
	ss.mu.Lock()
	p := ss.proc
	if ss.tty == nil {
		ss.mu.Unlock()
		return false
	}
	ss.tty = &size
	ss.mu.Unlock()
	if p == nil {
		return true
	}
	return p.Resize(ctx, size) == nil
}

func (ss *session) signal(ctx context.Context, name string) bool {
	ss.mu.Lock()
	p := ss.proc
	ss.mu.Unlock()
	sig := map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}[name]
	if p == nil || sig == 0 {
		return false
	}
	return p.Signal(ctx, sig) == nil
}

// start runs args in the agent (once per session); the returned func relays its streams. A
// start that fails is reported on the session's stderr with exit status 255 (127 without a
// shell), as ssh reports its own failures, so the request itself succeeds.
func (ss *session) start(ctx context.Context, args []string) (bool, func()) {
	ss.mu.Lock()
	if ss.done != nil {
		ss.mu.Unlock()
		return false, nil
	}
	ss.done = make(chan struct{})
	ss.mu.Unlock()
	cmd := manager.Command{Args: args, Env: ss.env, Stdin: true, TTY: ss.tty}
	if ss.tty != nil {
		if cmd.Env == nil {
			cmd.Env = map[string]string{}
		}
		cmd.Env["TERM"] = ss.term
		if ss.term == "" || manager.ValidateEnv(map[string]string{"TERM": ss.term}) != nil {
			cmd.Env["TERM"] = "xterm"
		}
	}
	p, err := ss.s.cfg.Opener.Open(ctx, ss.agent, cmd)
	if err != nil {
		ss.log.Info("session start failed", "err", err)
		return true, func() {
			msg, code := publicMessage(err)
			fmt.Fprintf(ss.ch.Stderr(), "paddock: %s\r\n", msg)
			ss.exit(code)
			close(ss.done)
		}
	}
	ss.mu.Lock()
	ss.proc = p
	ss.mu.Unlock()
	return true, func() {
		go ss.pumpStdin(ctx, p, cmd.TTY != nil)
		go ss.pumpOutput(p)
	}
}

// pumpStdin relays the client's input; its EOF closes the process's stdin (a terminal has no
// EOF of its own: the shell ends by exit or ^D).
func (ss *session) pumpStdin(ctx context.Context, p Process, tty bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := ss.ch.Read(buf)
		if n > 0 {
			if p.SendStdin(ctx, buf[:n], tty) != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && !tty {
				_ = p.CloseStdin(ctx)
			}
			return
		}
	}
}

// pumpOutput relays output until the process ends, then sends its exit status and closes
// the channel.
func (ss *session) pumpOutput(p Process) {
	defer close(ss.done)
	defer p.Close()
	for {
		out, end, err := p.Next()
		switch {
		case err != nil:
			ss.log.Info("session lost", "err", err)
			ss.exit(255)
			return
		case end != nil:
			ss.exit(end.Code)
			return
		}
		w := io.Writer(ss.ch)
		if out.Stream == "stderr" {
			w = ss.ch.Stderr()
		}
		if _, err := w.Write(out.Data); err != nil {
			return
		}
	}
}

// exit sends the exit status and closes the channel.
func (ss *session) exit(code int) {
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: uint32(code)}))
	_ = ss.ch.CloseWrite()
	_ = ss.ch.Close()
}

// publicMessage is what a client may read of a start failure, and the exit status to end
// the session with: the class's message for the classes a user can act on, a generic line
// otherwise.
func publicMessage(err error) (string, int) {
	var nf *manager.CommandNotFoundError
	switch {
	case errors.As(err, &nf):
		return "the agent's image has no /bin/sh", manager.ExitCommandNotFound
	case errdefs.IsNotFound(err):
		return "agent not found", 255
	case errors.Is(err, errdefs.ErrFailedPrecondition):
		return "agent is not running; start it first", 255
	case errors.Is(err, errdefs.ErrUnavailable):
		return "agent is unavailable; try again", 255
	}
	return "could not start the session", 255
}
