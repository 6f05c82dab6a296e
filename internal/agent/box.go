package agent

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/paddock/paddock/internal/manager"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// ManagerSandbox is a Sandbox served by the manager: every command and file access goes
// through its public methods (and into its audit trail) as the sandbox's default user.
type ManagerSandbox struct {
	M  *manager.Manager
	ID string
}

var _ Sandbox = (*ManagerSandbox)(nil)

// Exec implements Sandbox.
func (s *ManagerSandbox) Exec(ctx context.Context, shell, dir string, timeout time.Duration, limit int) (ExecResult, error) {
	res, err := s.M.Exec(ctx, s.ID, manager.ExecRequest{Shell: shell, Cwd: dir, Timeout: timeout, OutputLimit: limit})
	if err != nil {
		return ExecResult{}, err
	}
	return ExecResult{ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr, TimedOut: res.TimedOut,
		Truncated: res.Truncated}, nil
}

// ReadFile implements Sandbox.
func (s *ManagerSandbox) ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error) {
	rc, err := s.M.ReadFile(ctx, s.ID, path, "")
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return data[:limit], true, nil
	}
	return data, false, nil
}

// WriteFile implements Sandbox.
func (s *ManagerSandbox) WriteFile(ctx context.Context, path string, data []byte) error {
	return s.M.WriteFile(ctx, s.ID, path, "", bytes.NewReader(data))
}

// List implements Sandbox.
func (s *ManagerSandbox) List(ctx context.Context, path string) ([]string, error) {
	entries, err := s.M.ListFiles(ctx, s.ID, path, "", 1)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		name := e.GetName()
		if e.GetType() == fspb.FileType_FILE_TYPE_DIRECTORY {
			name += "/"
		}
		out = append(out, name)
	}
	return out, nil
}
