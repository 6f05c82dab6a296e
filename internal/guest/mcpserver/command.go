package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/toolout"
)

// commandArgs are run_command's arguments.
type commandArgs struct {
	Command string            `json:"command" jsonschema:"the command, run through /bin/sh -c"`
	Cwd     string            `json:"cwd,omitempty" jsonschema:"working directory (default: the user's home)"`
	Env     map[string]string `json:"env,omitempty" jsonschema:"extra environment variables"`
	Timeout float64           `json:"timeout,omitempty" jsonschema:"seconds before the command is killed (default 300, at most 86400)"`
}

// execResult is how a command ended.
type execResult struct {
	ExitCode   int    `json:"exit_code"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	DurationMS int64  `json:"duration_ms"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	Truncated  bool   `json:"truncated,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Shell-style exit codes of ends the command's own status does not give.
const (
	exitNotFound = 127
	exitTimedOut = 124
	exitOOM      = 137
	exitUnknown  = 255
)

// timeout is seconds as a duration: DefaultTimeout when 0, at most MaxTimeout.
func timeout(seconds float64) (time.Duration, error) {
	switch {
	case seconds < 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0):
		return 0, errdefs.InvalidArgument("timeout must be a positive number of seconds")
	case seconds == 0:
		return DefaultTimeout, nil
	case seconds > MaxTimeout.Seconds():
		return 0, errdefs.InvalidArgument("timeout must be at most %d seconds", int(MaxTimeout.Seconds()))
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

func (s *Server) runCommand(ctx context.Context, in commandArgs) (any, error) {
	if strings.TrimSpace(in.Command) == "" {
		return nil, errdefs.InvalidArgument("command is required")
	}
	d, err := timeout(in.Timeout)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	p, err := s.c.Start(ctx, guestclient.Command{Args: []string{"/bin/sh", "-c", in.Command}, Env: in.Env, Cwd: in.Cwd, Timeout: d})
	switch {
	case err == nil:
	case errdefs.IsNotFound(err) && guestproto.IsCommandNotFound(err.Error()):
		return execResult{ExitCode: exitNotFound, Stderr: err.Error() + "\n", DurationMS: time.Since(began).Milliseconds()}, nil
	case timedOut(ctx, err):
		return timedOutResult(newCapture(), d, began), nil
	default:
		return nil, err
	}
	out := newCapture()
	for {
		o, end, err := p.Next()
		switch {
		case timedOut(ctx, err):
			return timedOutResult(out, d, began), nil
		case err != nil:
			return nil, err
		case end != nil:
			res := captured(out)
			code, note := exitCode(end)
			res.ExitCode, res.Note = code, toolout.JoinNote(res.Note, note)
			res.DurationMS = time.Since(began).Milliseconds()
			return res, nil
		}
		out.Add(o.Stream == "stderr", o.Data)
	}
}

// timedOut reports whether err is the command's own timeout, not the caller leaving.
func timedOut(ctx context.Context, err error) bool {
	return err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
}

func newCapture() *toolout.Capture { return &toolout.Capture{Limit: OutputLimit} }

// captured is a command's answer with the output out kept.
func captured(out *toolout.Capture) execResult {
	stdout, stderr, note := out.Result()
	return execResult{Stdout: string(stdout), Stderr: string(stderr), Truncated: note != "", Note: note}
}

func timedOutResult(out *toolout.Capture, d time.Duration, began time.Time) execResult {
	res := captured(out)
	res.ExitCode, res.TimedOut = exitTimedOut, true
	res.Note = toolout.JoinNote(res.Note, fmt.Sprintf("the command timed out after %s and was killed", d))
	res.DurationMS = time.Since(began).Milliseconds()
	return res
}

// exitCode is the shell-style exit code of an end, and a note when a signal ended it.
func exitCode(e *guestclient.End) (int, string) {
	sig := e.Signal()
	switch {
	case e.OOMKilled():
		return exitOOM, "killed: out of memory (the sandbox's memory limit was reached)"
	case e.Exited || e.ExitCode >= 0:
		return e.ExitCode, ""
	case sig != 0:
		return 128 + int(sig), fmt.Sprintf("killed by signal %d (%s)", int(sig), sig)
	}
	return exitUnknown, ""
}
