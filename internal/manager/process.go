package manager

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
)

// Shell-style exit codes of the ends a command's own status does not give.
const (
	ExitCommandNotFound = 127 // the command does not exist in the sandbox
	ExitTimedOut        = 124 // the command's timeout killed it
	ExitOOMKilled       = 137 // the sandbox's memory limit killed it (128 + SIGKILL)
	exitUnknown         = 255 // the guest reported neither a status nor a signal
)

// Command is a process to start in a sandbox.
type Command struct {
	Args  []string          // argv; Args[0] is looked up in the sandbox's PATH
	Env   map[string]string // added to the sandbox-wide environment
	Cwd   string            // "" = the sandbox default (the user's home)
	User  string            // "" = the sandbox default user
	Tag   string            // optional tag to find the process by
	Stdin bool              // keep stdin open for SendStdin; false = /dev/null
	// TTY, when set, runs the process on a pseudo-terminal of this size.
	TTY *TTYSize
	// Timeout kills the process when it runs longer (0 = no limit, at most MaxTimeout).
	Timeout time.Duration
}

// TTYSize is a terminal size.
type TTYSize struct{ Rows, Cols uint32 }

// Output is one chunk of a process's output.
type Output struct {
	Stream string // "stdout", "stderr" or "pty"
	Data   []byte
}

// Exit is how a process ended.
type Exit struct {
	// Code is the shell-style exit code: the process's status, 128+N when signal N killed
	// it, ExitOOMKilled when the sandbox's memory limit did, ExitTimedOut when its timeout
	// did.
	Code      int
	TimedOut  bool
	OOMKilled bool
	// Reason explains an end that is not a normal exit in one line ("" for a normal exit).
	Reason   string
	Duration time.Duration
}

// CommandNotFoundError is StartProcess's error when the command does not exist in the
// sandbox. Its class is errdefs.ErrNotFound and its message reads like a shell's; runs
// report it as the end Exit gives.
type CommandNotFoundError struct {
	msg      string
	duration time.Duration
}

func (e *CommandNotFoundError) Error() string { return e.msg }

// Unwrap gives the error its class.
func (e *CommandNotFoundError) Unwrap() error { return errdefs.ErrNotFound }

// Exit is the end a run reports for the command: ExitCommandNotFound, with the message as
// the reason.
func (e *CommandNotFoundError) Exit() *Exit {
	return &Exit{Code: ExitCommandNotFound, Reason: e.msg, Duration: e.duration}
}

// Process is a process started by StartProcess. Next must be called until it returns an
// Exit or an error (or Close called); the input methods may be called meanwhile.
type Process struct {
	PID uint32

	m     *Manager
	gp    *guestclient.Process // nil when the timeout ran out before the guest started it
	id    string               // the sandbox's ID
	name  string               // and name, for the audit event
	args  []string
	limit time.Duration // the command's timeout
	began time.Time
	// ctx is StartProcess's, which the process's stream lives by: Next tells the command's
	// timeout from the caller's own end by it, and records the end with its audit origin.
	ctx   context.Context
	ended bool
	// serving keeps the sandbox from counting as idle until Close.
	serving func()
}

// StartProcess starts a process in a running sandbox and returns once the guest reports it
// started (a command whose timeout runs out before that ends at once, timed out). A command
// that is not in the sandbox is a *CommandNotFoundError. The end of every process is
// recorded as an audit.CommandExecuted event.
func (m *Manager) StartProcess(ctx context.Context, idOrName string, cmd Command) (*Process, error) {
	switch {
	case len(cmd.Args) == 0 || cmd.Args[0] == "":
		return nil, errdefs.InvalidArgument("command is required")
	case cmd.Timeout < 0:
		return nil, errdefs.InvalidArgument("timeout must not be negative")
	case cmd.Timeout > MaxTimeout:
		return nil, errdefs.InvalidArgument("timeout %s is too large (max %s)", cmd.Timeout, MaxTimeout)
	}
	if err := ValidateEnv(cmd.Env); err != nil {
		return nil, err
	}
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	p := &Process{m: m, id: sb.ID, name: sb.Name, args: cmd.Args, limit: cmd.Timeout, began: time.Now(), ctx: ctx,
		serving: m.Serving(ctx, sb.ID)}
	gp, err := m.client(sb).Start(ctx, cmd.guest())
	if err != nil && !p.timedOut(err) {
		p.serving()
	}
	switch {
	case err == nil:
		p.gp, p.PID = gp, gp.PID
	case p.timedOut(err):
		// The guest had not reported the start when the timeout ran out (a loaded host or
		// a slow guest): the command's time is up all the same, and the guest kills it at
		// its own deadline if it started.
	case errdefs.IsNotFound(err) && guestproto.IsCommandNotFound(err.Error()):
		nf := &CommandNotFoundError{msg: err.Error(), duration: time.Since(p.began)}
		m.recordExec(ctx, sb.Name, cmd.Args, nf.Exit())
		return nil, nf
	default:
		return nil, err
	}
	return p, nil
}

// guest is the command as the guest client takes it.
func (c Command) guest() guestclient.Command {
	gc := guestclient.Command{Args: c.Args, Env: c.Env, Cwd: c.Cwd, User: c.User, Tag: c.Tag,
		Stdin: c.Stdin, Timeout: c.Timeout}
	if c.TTY != nil {
		gc.TTY = &guestclient.TTYSize{Rows: c.TTY.Rows, Cols: c.TTY.Cols}
	}
	return gc
}

// Next returns the next chunk of output, or the Exit once the process ended (recorded as
// an audit event). A broken stream is explained by processLost. After an Exit or an error
// the process is closed.
func (p *Process) Next() (*Output, *Exit, error) {
	if p.ended {
		return nil, nil, errEnded
	}
	if p.gp == nil {
		return nil, p.end(p.timeoutExit()), nil
	}
	out, end, err := p.gp.Next()
	switch {
	case p.timedOut(err):
		return nil, p.end(p.timeoutExit()), nil
	case err != nil:
		p.ended = true
		return nil, nil, p.m.processLost(p.ctx, p.id, err)
	case end != nil:
		return nil, p.end(exitOf(end)), nil
	}
	return &Output{Stream: out.Stream, Data: out.Data}, nil, nil
}

// timedOut reports whether err is the command's timeout running out, rather than the
// caller's context ending.
func (p *Process) timedOut(err error) bool {
	return p.limit > 0 && errors.Is(err, context.DeadlineExceeded) && p.ctx.Err() == nil
}

func (p *Process) timeoutExit() *Exit {
	return &Exit{Code: ExitTimedOut, TimedOut: true,
		Reason: fmt.Sprintf("command timed out after %s and was killed", p.limit)}
}

// end records the process's end.
func (p *Process) end(x *Exit) *Exit {
	p.ended = true
	x.Duration = time.Since(p.began)
	p.m.recordExec(context.WithoutCancel(p.ctx), p.name, p.args, x)
	return x
}

// exitOf turns the guest's end event into the shell-style end.
func exitOf(e *guestclient.End) *Exit {
	x := &Exit{Code: exitUnknown, OOMKilled: e.OOMKilled()}
	sig := e.Signal()
	switch {
	case x.OOMKilled:
		x.Code = ExitOOMKilled
	case e.Exited || e.ExitCode >= 0:
		x.Code = e.ExitCode
	case sig != 0:
		x.Code = 128 + int(sig)
	}
	switch {
	case x.OOMKilled:
		x.Reason = "killed: out of memory (the sandbox's memory limit was reached)"
	case sig != 0:
		x.Reason = fmt.Sprintf("killed by signal %d (%s)", int(sig), sig)
	}
	return x
}

// errEnded answers a call on a process that ended (or, for input, never started).
var errEnded = errdefs.FailedPrecondition("the process has ended")

// SendStdin writes to the process's stdin (or its terminal when tty).
func (p *Process) SendStdin(ctx context.Context, data []byte, tty bool) error {
	if p.gp == nil {
		return errEnded
	}
	return p.gp.SendStdin(ctx, data, tty)
}

// CloseStdin closes the process's stdin.
func (p *Process) CloseStdin(ctx context.Context) error {
	if p.gp == nil {
		return errEnded
	}
	return p.gp.CloseStdin(ctx)
}

// Resize changes the process's terminal size.
func (p *Process) Resize(ctx context.Context, size TTYSize) error {
	if p.gp == nil {
		return errEnded
	}
	return p.gp.Resize(ctx, guestclient.TTYSize{Rows: size.Rows, Cols: size.Cols})
}

// Signal sends SIGTERM, or SIGKILL (to the whole tree), to the process.
func (p *Process) Signal(ctx context.Context, sig syscall.Signal) error {
	if p.gp == nil {
		return errEnded
	}
	return p.gp.Signal(ctx, sig)
}

// Close abandons the process's stream; the process keeps running unless its timeout or a
// Signal ends it.
func (p *Process) Close() {
	if p.gp != nil {
		p.gp.Close()
	}
	p.serving()
}

// recordExec writes the command_executed event of a process's end in sandbox name.
func (m *Manager) recordExec(ctx context.Context, name string, args []string, x *Exit) {
	m.record(ctx, audit.CommandExecuted, name, map[string]any{"command": args, "exit_code": x.Code,
		"duration_ms": x.Duration.Milliseconds()})
}
