package manager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
)

// DefaultOutputLimit caps each of stdout and stderr of a buffered Exec.
const DefaultOutputLimit = 16 << 20

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
	// Output is stdout and stderr interleaved in the order they arrived.
	Output    []byte
	Duration  time.Duration
	TimedOut  bool
	OOMKilled bool
	Truncated bool
	// Reason is a one-line explanation when the command did not exit normally.
	Reason string
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
	if cmd.Timeout < 0 {
		return nil, errdefs.InvalidArgument("timeout must not be negative")
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
		res := &ExecResult{ExitCode: 127, Stderr: msg, Output: msg, Duration: time.Since(began), Reason: err.Error()}
		m.recordExec(ctx, idOrName, args, res)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	if req.Stdin != nil {
		go feedStdin(ctx, p, req.Stdin)
	}
	res := &ExecResult{}
	var stdout, stderr, output bytes.Buffer
	for {
		out, end, err := p.Next()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			res.ExitCode, res.TimedOut = 124, true
			res.Reason = fmt.Sprintf("command timed out after %s and was killed", req.Timeout)
			break
		}
		if err != nil {
			return nil, err
		}
		if end != nil {
			res.ExitCode, res.OOMKilled = end.Code(), end.OOMKilled()
			res.Reason = endReason(end)
			break
		}
		buf := &stdout
		if out.Stream == "stderr" {
			buf = &stderr
		}
		if n := limit - buf.Len(); n < len(out.Data) {
			res.Truncated = true
			out.Data = out.Data[:max(n, 0)]
		}
		buf.Write(out.Data)
		if output.Len() < 2*limit {
			output.Write(out.Data)
		}
	}
	res.Stdout, res.Stderr, res.Output, res.Duration = stdout.Bytes(), stderr.Bytes(), output.Bytes(), time.Since(began)
	m.recordExec(ctx, idOrName, args, res)
	return res, nil
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
