package runc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// runtimeWaitDelay bounds how long a runtime command may linger after it was killed for a
// cancelled context, or keep its output open after exiting, before Wait gives up on it.
const runtimeWaitDelay = 5 * time.Second

// runtime runs one runtime subcommand and returns its stdout. Failures carry the runtime's
// last error line, classed: "does not exist" → not found, "not running"/"paused" → failed
// precondition.
func (d *Driver) runtime(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"--root", d.cfg.RuntimeRoot}, args...)
	cmd := exec.CommandContext(ctx, d.bin, full...)
	cmd.WaitDelay = runtimeWaitDelay
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, classify(fmt.Sprintf("%s %s", d.cfg.Runtime, args[0]), stderr.String(), err)
	}
	return stdout.Bytes(), nil
}

// classify turns a failed runtime command into an error of the right class, with the
// runtime's own message on one line.
func classify(op, stderr string, err error) error {
	msg := oneLine(lastLine(stderr))
	if msg == "" {
		msg = err.Error()
	}
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "does not exist") || strings.Contains(lower, "container not found"):
		return errdefs.NotFound("%s: %s", op, msg)
	case strings.Contains(lower, "not running") || strings.Contains(lower, "is paused") ||
		strings.Contains(lower, "not paused") || strings.Contains(lower, "is stopped"):
		return errdefs.FailedPrecondition("%s: %s", op, msg)
	}
	return fmt.Errorf("%s: %s", op, msg)
}

// lastLine returns the last non-empty line, unwrapping runc's JSON log format.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		var entry struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(l), &entry) == nil && entry.Msg != "" {
			return entry.Msg
		}
		return l
	}
	return ""
}

// oneLine keeps a message on one line, for logs and errors.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// tail returns the last line of a file, for errors that runc logged rather than printed.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 8192 {
		b = b[len(b)-8192:]
	}
	return lastLine(string(b))
}

// state is the subset of `runc state` output the driver uses.
type state struct {
	ID     string `json:"id"`
	Status string `json:"status"` // created, running, paused, stopped
	Pid    int    `json:"pid"`
}

// state returns the runtime's view of a container; not found when it has none.
func (d *Driver) state(ctx context.Context, id string) (*state, error) {
	out, err := d.runtime(ctx, "state", id)
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("parse runtime state of %s: %w", id, err)
	}
	return &st, nil
}

// list returns every container the runtime knows under our root.
func (d *Driver) list(ctx context.Context) ([]state, error) {
	out, err := d.runtime(ctx, "list", "--format", "json")
	// runc list reads each container's state directory in turn and fails when one is removed
	// between its readdir and its stat (a concurrent delete): the next read no longer sees it.
	for i := 0; i < 3 && err != nil && strings.Contains(err.Error(), "no such file or directory"); i++ {
		out, err = d.runtime(ctx, "list", "--format", "json")
	}
	if err != nil {
		return nil, err
	}
	var sts []state
	if t := bytes.TrimSpace(out); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &sts); err != nil {
			return nil, fmt.Errorf("parse runtime list: %w", err)
		}
	}
	return sts, nil
}
