package manager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/sandbox"
)

// DefaultOutputLimit caps each of stdout and stderr of a buffered Exec. A buffered answer
// holds its output in memory until it is sent, so the cap bounds the server's memory per
// request (streams have no cap).
const DefaultOutputLimit = 8 << 20

// MaxTimeout is the longest timeout a command may be given.
const MaxTimeout = 24 * time.Hour

// ExecRequest is one command to run in a sandbox.
type ExecRequest struct {
	// Command is argv; Shell, when set instead, runs through /bin/sh -c.
	Command []string
	Shell   string
	Env     map[string]string
	Cwd     string
	User    string
	Stdin   []byte
	// Timeout kills the command when it runs longer (0 = no limit).
	Timeout time.Duration
	// OutputLimit caps each captured stream (0 = DefaultOutputLimit).
	OutputLimit int
}

// ExecResult is how a buffered command ended.
type ExecResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
	Duration time.Duration
	TimedOut bool
	// OOMKilled: the sandbox's memory limit killed the command.
	OOMKilled bool
	// Truncated: output past the limit of a stream was dropped.
	Truncated bool
	// Reason is a one-line explanation when the command did not exit normally.
	Reason string
	// output records how Stdout and Stderr interleaved.
	output *capture
}

// Output is stdout and stderr interleaved in the order they arrived, as parts of Stdout and
// Stderr (nothing is copied).
func (r *ExecResult) Output() [][]byte {
	if r.output == nil {
		return [][]byte{r.Stdout, r.Stderr}
	}
	return r.output.interleaved()
}

// argv turns the request into the argv the guest runs.
func (r *ExecRequest) argv() ([]string, error) {
	switch {
	case r.Shell != "" && len(r.Command) > 0:
		return nil, errdefs.InvalidArgument("give either command or shell, not both")
	case r.Shell != "":
		return []string{"/bin/sh", "-c", r.Shell}, nil
	case len(r.Command) == 0 || r.Command[0] == "":
		return nil, errdefs.InvalidArgument("command is required")
	}
	return r.Command, nil
}

// StartProcess starts a streaming process in a running sandbox. The caller reads it with
// Next until it ends. A command that is not in the sandbox is an ErrNotFound-class error
// whose message reads like a shell's.
func (m *Manager) StartProcess(ctx context.Context, idOrName string, cmd guestclient.Command) (*guestclient.Process, error) {
	switch {
	case cmd.Timeout < 0:
		return nil, errdefs.InvalidArgument("timeout must not be negative")
	case cmd.Timeout > MaxTimeout:
		return nil, errdefs.InvalidArgument("timeout %s is too large (max %s)", cmd.Timeout, MaxTimeout)
	}
	if err := ValidateEnv(cmd.Env); err != nil {
		return nil, err
	}
	sb, err := m.running(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	return m.client(sb).Start(ctx, cmd)
}

// Exec runs a command to completion and returns its captured output. A command that does
// not exist in the sandbox yields exit code 127 and a shell-style message on stderr.
func (m *Manager) Exec(ctx context.Context, idOrName string, req ExecRequest) (*ExecResult, error) {
	args, err := req.argv()
	if err != nil {
		return nil, err
	}
	limit := req.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	began := time.Now()
	p, err := m.StartProcess(ctx, idOrName, guestclient.Command{
		Args: args, Env: req.Env, Cwd: req.Cwd, User: req.User,
		Stdin: req.Stdin != nil, Timeout: req.Timeout,
	})
	if errdefs.IsNotFound(err) && isCommandNotFound(err) {
		msg := []byte(err.Error() + "\n")
		res := &ExecResult{ExitCode: 127, Stderr: msg, Duration: time.Since(began), Reason: err.Error()}
		m.recordExec(ctx, idOrName, args, res)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	if req.Stdin != nil {
		go feedStdin(ctx, p, req.Stdin)
	}
	out := &capture{limit: limit}
	res := &ExecResult{output: out}
	for {
		chunk, end, err := p.Next()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			res.ExitCode, res.TimedOut = 124, true
			res.Reason = fmt.Sprintf("command timed out after %s and was killed", req.Timeout)
			break
		}
		if err != nil {
			return nil, m.ProcessLost(ctx, idOrName, err)
		}
		if end != nil {
			res.ExitCode, res.OOMKilled = end.Code(), end.OOMKilled()
			res.Reason = endReason(end)
			break
		}
		out.add(chunk.Stream == "stderr", chunk.Data)
	}
	res.Stdout, res.Stderr, res.Truncated, res.Duration = out.stdout, out.stderr, out.truncated, time.Since(began)
	m.recordExec(ctx, idOrName, args, res)
	return res, nil
}

// ProcessLost explains why a process stream of a sandbox broke: when the sandbox was
// deleted or stopped meanwhile, the error says so (class ErrFailedPrecondition) instead of
// carrying the broken connection's protocol error. Other errors are returned as they are.
func (m *Manager) ProcessLost(ctx context.Context, idOrName string, err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	// The lifecycle lock waits for a stop or delete in progress to finish.
	sb, unlock, gerr := m.locked(context.WithoutCancel(ctx), idOrName)
	switch {
	case errdefs.IsNotFound(gerr):
		return errdefs.FailedPrecondition("the sandbox was deleted while the command ran")
	case gerr != nil:
		return err
	}
	unlock()
	switch sb.State {
	case sandbox.StateRunning:
		return err
	case sandbox.StateRemoving:
		return errdefs.FailedPrecondition("the sandbox was deleted while the command ran")
	}
	return errdefs.FailedPrecondition("the sandbox is %s: the command ended with it", sb.State)
}

// ValidateEnv refuses environment variables that a process environment cannot carry: a
// name that is empty or holds '=' or NUL, a value that holds NUL.
func ValidateEnv(env map[string]string) error {
	for k, v := range env {
		switch {
		case k == "":
			return errdefs.InvalidArgument("env: a variable name is empty")
		case strings.ContainsAny(k, "=\x00"):
			return errdefs.InvalidArgument("env: variable name %q must not contain '=' or a NUL byte", k)
		case strings.IndexByte(v, 0) >= 0:
			return errdefs.InvalidArgument("env: the value of %s contains a NUL byte", k)
		}
	}
	return nil
}

func (m *Manager) recordExec(ctx context.Context, idOrName string, args []string, res *ExecResult) {
	name := idOrName
	if sb, err := m.store.GetSandbox(ctx, idOrName); err == nil {
		name = sb.Name
	}
	m.record(ctx, audit.CommandExecuted, name, map[string]any{"command": args, "exit_code": res.ExitCode,
		"duration_ms": res.Duration.Milliseconds()})
}

func feedStdin(ctx context.Context, p *guestclient.Process, data []byte) {
	const chunk = 64 << 10
	for len(data) > 0 {
		n := min(chunk, len(data))
		if p.SendStdin(ctx, data[:n], false) != nil {
			return
		}
		data = data[n:]
	}
	_ = p.CloseStdin(ctx)
}

// endReason explains an abnormal end in one line ("" for a normal exit).
func endReason(e *guestclient.End) string {
	switch {
	case e.OOMKilled():
		return "killed: out of memory (the sandbox's memory limit was reached)"
	case e.Signal() != 0:
		return fmt.Sprintf("killed by signal %d (%s)", int(e.Signal()), e.Signal())
	}
	return ""
}

// EndReason is endReason for callers that stream processes themselves.
func EndReason(e *guestclient.End) string { return endReason(e) }

func isCommandNotFound(err error) bool {
	return bytes.HasSuffix([]byte(err.Error()), []byte("command not found"))
}

// RecordCommand writes the command_executed event of a process a surface streamed itself.
func (m *Manager) RecordCommand(ctx context.Context, idOrName string, args []string, exitCode int, d time.Duration) {
	m.recordExec(ctx, idOrName, args, &ExecResult{ExitCode: exitCode, Duration: d})
}
