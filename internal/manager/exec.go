package manager

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
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

// Exec runs a command to completion and returns its captured output. A command that does
// not exist in the sandbox yields ExitCommandNotFound and a shell-style message on stderr;
// one that outlives its timeout, ExitTimedOut.
func (m *Manager) Exec(ctx context.Context, idOrName string, req ExecRequest) (*ExecResult, error) {
	args, err := req.argv()
	if err != nil {
		return nil, err
	}
	limit := req.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	p, err := m.StartProcess(ctx, idOrName, Command{
		Args: args, Env: req.Env, Cwd: req.Cwd, User: req.User,
		Stdin: req.Stdin != nil, Timeout: req.Timeout,
	})
	var nf *CommandNotFoundError
	if errors.As(err, &nf) {
		x := nf.Exit()
		return &ExecResult{ExitCode: x.Code, Stderr: []byte(nf.Error() + "\n"), Duration: x.Duration, Reason: x.Reason}, nil
	}
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if req.Stdin != nil {
		go feedStdin(ctx, p, req.Stdin)
	}
	out := &capture{limit: limit}
	for {
		chunk, x, err := p.Next()
		if err != nil {
			return nil, err
		}
		if x != nil {
			return &ExecResult{ExitCode: x.Code, Stdout: out.stdout, Stderr: out.stderr, Duration: x.Duration,
				TimedOut: x.TimedOut, OOMKilled: x.OOMKilled, Truncated: out.truncated, Reason: x.Reason, output: out}, nil
		}
		out.add(chunk.Stream == "stderr", chunk.Data)
	}
}

// processLost explains why a process stream of a sandbox broke: when the sandbox was
// deleted or stopped meanwhile, the error says so (class ErrFailedPrecondition) instead of
// carrying the broken connection's protocol error. Other errors are returned as they are.
func (m *Manager) processLost(ctx context.Context, idOrName string, err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	// The lifecycle lock waits for a stop or delete in progress to finish.
	sb, unlock, gerr := m.locked(context.WithoutCancel(ctx), idOrName, AccessView)
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

func feedStdin(ctx context.Context, p *Process, data []byte) {
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
