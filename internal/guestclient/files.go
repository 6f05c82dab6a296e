package guestclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
	fspb "github.com/paddock/paddock/proto/filesystem"
)

// ReadFile streams a file's content as user ("" = the sandbox default). The caller closes it.
func (c *Client) ReadFile(ctx context.Context, path, user string) (io.ReadCloser, error) {
	resp, err := c.do(ctx, http.MethodGet, "/files?"+fileQuery(path, user), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return resp.Body, nil
}

// WriteFile creates or replaces a file (and its parent dirs) with r's content as user.
func (c *Client) WriteFile(ctx context.Context, path, user string, r io.Reader) error {
	resp, err := c.do(ctx, http.MethodPost, "/files?"+fileQuery(path, user), r,
		http.Header{"Content-Type": {"application/octet-stream"}})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	resp.Body.Close()
	return nil
}

// Stat describes one path.
func (c *Client) Stat(ctx context.Context, path, user string) (*fspb.EntryInfo, error) {
	req := connect.NewRequest(&fspb.StatRequest{Path: path})
	setUser(req.Header(), user)
	resp, err := c.FS.Stat(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, Classify(err))
	}
	return resp.Msg.GetEntry(), nil
}

// ListDir lists a directory to depth levels (≥ 1).
func (c *Client) ListDir(ctx context.Context, path, user string, depth uint32) ([]*fspb.EntryInfo, error) {
	req := connect.NewRequest(&fspb.ListDirRequest{Path: path, Depth: depth})
	setUser(req.Header(), user)
	resp, err := c.FS.ListDir(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, Classify(err))
	}
	return resp.Msg.GetEntries(), nil
}

// Remove deletes a path recursively.
func (c *Client) Remove(ctx context.Context, path, user string) error {
	req := connect.NewRequest(&fspb.RemoveRequest{Path: path})
	setUser(req.Header(), user)
	if _, err := c.FS.Remove(ctx, req); err != nil {
		return fmt.Errorf("remove %s: %w", path, Classify(err))
	}
	return nil
}

// MakeDir creates a directory and its parents.
func (c *Client) MakeDir(ctx context.Context, path, user string) error {
	req := connect.NewRequest(&fspb.MakeDirRequest{Path: path})
	setUser(req.Header(), user)
	if _, err := c.FS.MakeDir(ctx, req); err != nil {
		return fmt.Errorf("mkdir %s: %w", path, Classify(err))
	}
	return nil
}

func fileQuery(path, user string) string {
	q := url.Values{"path": {path}}
	if user != "" {
		q.Set("username", user)
	}
	return q.Encode()
}

func setUser(h http.Header, user string) {
	if user != "" {
		h.Set("Authorization", guestproto.BasicAuth(user))
	}
}

// Classify maps a connect error from the guest onto an errdefs class, keeping its message.
// An error of the connection rather than an answer of the guest is
// sandbox.GuestUnreachable: its text names the guest's socket.
func Classify(err error) error {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return err
	}
	if _, hidden := errdefs.PublicMessage(err); hidden {
		return err // the driver's Dial failed, and said so
	}
	if !connect.IsWireError(ce) {
		switch ce.Code() {
		case connect.CodeUnavailable, connect.CodeUnknown, connect.CodeInternal:
			return sandbox.GuestUnreachable(err)
		}
	}
	var class error
	switch ce.Code() {
	case connect.CodeNotFound:
		class = errdefs.ErrNotFound
	case connect.CodeAlreadyExists:
		class = errdefs.ErrAlreadyExists
	case connect.CodeInvalidArgument, connect.CodeOutOfRange:
		class = errdefs.ErrInvalidArgument
	case connect.CodeFailedPrecondition:
		class = errdefs.ErrFailedPrecondition
	case connect.CodePermissionDenied:
		class = errdefs.ErrPermissionDenied
	case connect.CodeUnauthenticated:
		return unauthenticated(ce.Message())
	case connect.CodeResourceExhausted:
		class = errdefs.ErrResourceExhausted
	case connect.CodeDeadlineExceeded:
		return fmt.Errorf("%s: %w", ce.Message(), context.DeadlineExceeded)
	default:
		class = errdefs.ErrUnavailable
	}
	return errdefs.New(class, "%s", ce.Message())
}

// unauthenticated is a guest's refusal of a request's user or token. Only the user is the
// caller's doing ("invalid username: bob", envd's words): it is an invalid argument, never an
// authentication failure of the caller (HTTP 401 means a bad API key). A refused token is
// Paddock's own failure.
func unauthenticated(msg string) error {
	if name, ok := strings.CutPrefix(msg, "invalid username: "); ok {
		return errdefs.InvalidArgument("user %q does not exist in the sandbox (no /etc/passwd entry)", name)
	}
	return fmt.Errorf("the guest refused paddock's credentials: %s", msg)
}
