package manager

import (
	"context"
	"fmt"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// EventScope is the part of the audit log the caller of ctx may read, for audit.Filter: nil
// (everything) for admins and the system; for a user, the events they caused and those of
// the sandboxes they own or that are shared with them. Events of a sandbox deleted since
// stay visible to a user only where they caused them.
func (m *Manager) EventScope(ctx context.Context) (*audit.Scope, error) {
	c := CallerFrom(ctx)
	if c.Unrestricted() {
		return nil, nil
	}
	s := &audit.Scope{UserID: c.UserID, Sandboxes: []string{}}
	if c.UserID == "" {
		return s, nil
	}
	own, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{Owner: c.UserID})
	if err != nil {
		return nil, err
	}
	for _, sb := range own {
		s.Sandboxes = append(s.Sandboxes, sb.Name)
	}
	if m.cfg.Accounts == nil {
		return s, nil
	}
	shs, err := m.cfg.Accounts.ListSharesOf(ctx, c.UserID)
	if err != nil {
		return nil, fmt.Errorf("read shares: %w", err)
	}
	for _, sh := range shs {
		sb, err := m.store.GetSandbox(ctx, sh.SandboxID)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Sandboxes = append(s.Sandboxes, sb.Name)
	}
	return s, nil
}

// RunOwner is the owner whose run history (sandbox.RunStore.ListRuns) the caller of ctx
// reads: "" (every run) for admins and the system, else their user ID.
func RunOwner(ctx context.Context) string {
	c := CallerFrom(ctx)
	switch {
	case c.Unrestricted():
		return ""
	case c.UserID == "":
		return "-" // no user: no run matches, rather than every run
	}
	return c.UserID
}

// OwnerOf is who what a call of ctx makes belongs to: the calling user's ID, else (the
// server's own work, a server without authentication) fallback.
func OwnerOf(ctx context.Context, fallback string) string { return ownerOf(ctx, fallback) }

// RequireAdmin answers permission denied unless the caller of ctx is an admin (or the
// system: the server's own work, a server without authentication). Changes to what every
// user shares (templates, pools, images, server configuration) go through it.
func RequireAdmin(ctx context.Context, what string) error {
	if CallerFrom(ctx).Unrestricted() {
		return nil
	}
	return errdefs.New(errdefs.ErrPermissionDenied, "only an admin may %s", what)
}
