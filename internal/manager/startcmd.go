package manager

import (
	"context"
	"fmt"
	"strings"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

// CreateOption adjusts one Create or CreateDedicated call.
type CreateOption func(*createOptions)

type createOptions struct {
	startCmd []string
}

// WithStartCommand runs argv in the background in the new sandbox once it is created, and
// again whenever it is started after a stop (a template's start command), as the sandbox's
// default user with its environment. It is kept as the sandbox's Spec.StartCmd. A start that
// fails or a command that exits non-zero is logged and recorded as an
// audit.StartCommandFailed event; the sandbox stays.
func WithStartCommand(argv []string) CreateOption {
	return func(o *createOptions) { o.startCmd = append([]string(nil), argv...) }
}

// startCmdTag is the tag the start command's process carries (E2B lists a template's start
// command under it).
const startCmdTag = guestproto.StartCmdTag

// outputTail is how much of a failed command's output goes into its audit event.
const outputTail = 2048

// runStartCommand starts sb's start command, if it has one, and follows it in the
// background until it ends.
func (m *Manager) runStartCommand(sb *sandbox.Sandbox) {
	argv := sb.Spec.StartCmd
	if len(argv) == 0 {
		return
	}
	m.pools.goBackground(func(ctx context.Context) {
		p, err := m.client(sb).Start(ctx, guestclient.Command{Args: argv, Tag: startCmdTag})
		if err != nil {
			if ctx.Err() == nil {
				m.startFailed(ctx, sb, argv, -1, err.Error(), "")
			}
			return
		}
		code, out, err := drain(p)
		switch {
		case err != nil:
			// The stream broke: the sandbox went away or the manager is closing.
			m.log.Debug("start command: stopped following", "sandbox", sb.ID, "err", err)
		case code != 0 && m.stillRunning(ctx, sb.ID):
			m.startFailed(ctx, sb, argv, code, fmt.Sprintf("exited with code %d", code), out)
		}
	})
}

func (m *Manager) stillRunning(ctx context.Context, id string) bool {
	sb, err := m.store.GetSandbox(ctx, id)
	return err == nil && sb.State == sandbox.StateRunning
}

func (m *Manager) startFailed(ctx context.Context, sb *sandbox.Sandbox, argv []string, code int, reason, output string) {
	m.log.Warn("start command failed", "sandbox", sb.ID, "name", sb.Name, "template", sb.Spec.Template,
		"command", argv, "exit_code", code, "err", reason)
	m.record(context.WithoutCancel(ctx), audit.StartCommandFailed, sb.Name, map[string]any{"id": sb.ID,
		"template": sb.Spec.Template, "command": strings.Join(argv, " "), "exit_code": code, "error": reason, "output": output})
}

// warmup runs a pool's warmup command in a warm sandbox to completion.
func (m *Manager) warmup(ctx context.Context, sb *sandbox.Sandbox, argv []string) error {
	p, err := m.client(sb).Start(ctx, guestclient.Command{Args: argv, Timeout: warmupTimeout})
	if err != nil {
		return fmt.Errorf("warmup %q: %w", strings.Join(argv, " "), err)
	}
	code, out, err := drain(p)
	if err != nil {
		return fmt.Errorf("warmup %q: %w", strings.Join(argv, " "), err)
	}
	if code != 0 {
		return fmt.Errorf("warmup %q exited with code %d: %s", strings.Join(argv, " "), code, strings.TrimSpace(out))
	}
	return nil
}

// drain reads a process to its end and returns its exit code and the tail of its output.
func drain(p *guestclient.Process) (int, string, error) {
	var tail []byte
	for {
		out, end, err := p.Next()
		if err != nil {
			return -1, string(tail), err
		}
		if end != nil {
			return exitOf(end).Code, string(tail), nil
		}
		tail = append(tail, out.Data...)
		if len(tail) > outputTail {
			tail = tail[len(tail)-outputTail:]
		}
	}
}

// goBackground runs f in a goroutine that close waits for; f's context ends at close.
// After close, f does not run.
func (ps *pools) goBackground(f func(ctx context.Context)) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if ps.closed {
		return
	}
	ps.bg.Add(1)
	go func() {
		defer ps.bg.Done()
		f(ps.ctx)
	}()
}
