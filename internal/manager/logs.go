package manager

import (
	"context"

	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
)

// LogStream reads a sandbox's log line by line; Next answers io.EOF at its end. Close it.
type LogStream = guestclient.LogStream

// LogLine is one line of a sandbox's log.
type LogLine = guestproto.LogLine

// Logs opens the log of a running sandbox: the output of its own processes (its start
// command, a template's startCmd or args), which its guest keeps in a ring of the last
// 1 MiB or 10,000 lines since the sandbox (re)started. It answers the last tail lines (all
// that is kept when tail is 0) and, with follow, every new line until ctx ends. A sandbox
// that is not running is ErrFailedPrecondition.
func (m *Manager) Logs(ctx context.Context, idOrName string, tail int, follow bool) (*LogStream, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	return m.client(sb).Logs(ctx, tail, follow)
}
