package credential

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// Sandbox is what the injector needs of the manager: *manager.Manager implements it. Every
// path it is given is absolute inside the sandbox and resolved there by the guest, as the
// sandbox's default user; the host never opens a workspace path.
type Sandbox interface {
	Exec(ctx context.Context, idOrName string, req manager.ExecRequest) (*manager.ExecResult, error)
	ReadFile(ctx context.Context, idOrName, path, user string) (io.ReadCloser, error)
	StatFile(ctx context.Context, idOrName, path, user string) (*fspb.EntryInfo, error)
}

var _ Sandbox = (*manager.Manager)(nil)

// writeScript creates the parent directories ($1) and the file ($2) with mode 0700 and 0600
// from the start (umask), fills it from stdin, and sets 0600 on a file that existed. Paths are
// arguments, never part of the script, and the content never appears in argv.
const writeScript = `umask 077 && mkdir -p -- "$1" && cat > "$2" && chmod 600 -- "$2"`

// writeTimeout bounds one file's write.
const writeTimeout = 30 * time.Second

// Injector reads and writes credential files in a sandbox's workspace. It needs /bin/sh,
// mkdir, cat and chmod in the image (any image with a shell has them).
type Injector struct {
	Sandbox Sandbox
	// Workspace is the directory paths are relative to (default Workspace).
	Workspace string
}

func (in *Injector) abs(p string) string {
	root := in.Workspace
	if root == "" {
		root = Workspace
	}
	return path.Join(root, p)
}

// Write writes one file (a path Clean accepted) into the workspace of sandbox with mode
// 0600, owned by the sandbox's default user, creating its parent directories.
func (in *Injector) Write(ctx context.Context, sandbox, p, content string) error {
	full := in.abs(p)
	res, err := in.Sandbox.Exec(ctx, sandbox, manager.ExecRequest{
		Command: []string{"/bin/sh", "-c", writeScript, "sh", path.Dir(full), full},
		Stdin:   []byte(content), Timeout: writeTimeout, OutputLimit: 4 << 10,
	})
	if err != nil {
		return fmt.Errorf("write credential %s: %w", p, err)
	}
	if res.ExitCode != 0 {
		// stderr is the shell's and cat's messages about the path; the content is never echoed.
		msg := strings.TrimSpace(string(res.Stderr))
		if msg == "" {
			msg = fmt.Sprintf("exit status %d", res.ExitCode)
		}
		return errdefs.Hide(errdefs.ErrFailedPrecondition, fmt.Sprintf("credential file %s could not be written in the workspace", p), fmt.Errorf("%s", msg))
	}
	return nil
}

// Read returns a file of the workspace, or an errdefs.ErrNotFound-class error when there is
// none. A file over MaxFileBytes is refused.
func (in *Injector) Read(ctx context.Context, sandbox, p string) (string, error) {
	rc, err := in.Sandbox.ReadFile(ctx, sandbox, in.abs(p), "")
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(rc, MaxFileBytes+1)); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	if b.Len() > MaxFileBytes {
		return "", errdefs.New(errdefs.ErrTooLarge, "credential file %s is larger than %d bytes", p, MaxFileBytes)
	}
	return b.String(), nil
}

// Stat describes a file of the workspace (nil, nil when there is none).
func (in *Injector) Stat(ctx context.Context, sandbox, p string) (*fspb.EntryInfo, error) {
	info, err := in.Sandbox.StatFile(ctx, sandbox, in.abs(p), "")
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	return info, err
}
