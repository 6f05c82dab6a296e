package manager

import (
	"context"
	"io"

	"github.com/paddock/paddock/internal/audit"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// ReadFile streams a file from a running sandbox as user ("" = its default user). Paths are
// resolved by the guest inside the sandbox; the host never opens a sandbox path itself.
func (m *Manager) ReadFile(ctx context.Context, idOrName, path, user string) (io.ReadCloser, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	rc, err := m.client(sb).ReadFile(ctx, path, user)
	if err == nil {
		m.record(ctx, audit.FileRead, sb.Name, map[string]any{"path": path})
	}
	return rc, err
}

// WriteFile creates or replaces a file in a running sandbox.
func (m *Manager) WriteFile(ctx context.Context, idOrName, path, user string, r io.Reader) error {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return err
	}
	if err := m.client(sb).WriteFile(ctx, path, user, r); err != nil {
		return err
	}
	m.record(ctx, audit.FileWritten, sb.Name, map[string]any{"path": path})
	return nil
}

// StatFile describes a path in a running sandbox.
func (m *Manager) StatFile(ctx context.Context, idOrName, path, user string) (*fspb.EntryInfo, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	return m.client(sb).Stat(ctx, path, user)
}

// ListFiles lists a directory in a running sandbox to depth levels.
func (m *Manager) ListFiles(ctx context.Context, idOrName, path, user string, depth uint32) ([]*fspb.EntryInfo, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	if depth == 0 {
		depth = 1
	}
	return m.client(sb).ListDir(ctx, path, user, depth)
}

// DeleteFile removes a path (recursively) in a running sandbox.
func (m *Manager) DeleteFile(ctx context.Context, idOrName, path, user string) error {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return err
	}
	if err := m.client(sb).Remove(ctx, path, user); err != nil {
		return err
	}
	m.record(ctx, audit.FileDeleted, sb.Name, map[string]any{"path": path})
	return nil
}

// RereadFile streams a file again that ReadFile opened earlier for the same request (a
// surface that reads a file twice), without a second audit event.
func (m *Manager) RereadFile(ctx context.Context, idOrName, path, user string) (io.ReadCloser, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	return m.client(sb).ReadFile(ctx, path, user)
}
