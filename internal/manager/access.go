package manager

import (
	"context"
	"fmt"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Access is what an operation needs of its caller on a sandbox.
type Access int

// Access levels, each including the ones before it.
const (
	// AccessView reads a sandbox: get, list, stats, metrics (a viewer share).
	AccessView Access = iota + 1
	// AccessOperate uses it: exec, files, processes, ports, start, stop, pause, TTL changes
	// (an operator share).
	AccessOperate
	// AccessOwn changes who has it or ends it: delete, share, network policy (its owner and
	// admins only).
	AccessOwn
)

// Accounts is what the manager asks of the account store: who a sandbox is shared with, and
// per-user quota overrides. account.Store is one.
type Accounts interface {
	account.ShareStore
	account.QuotaStore
}

// Caller is who a call acts for: the identity the request carries, or the system (the
// server's own work, and every call on a server without authentication), which may do
// anything.
type Caller struct {
	account.Identity
	System bool
}

// CallerFrom returns the caller of ctx.
func CallerFrom(ctx context.Context) Caller {
	id, ok := account.IdentityFrom(ctx)
	if sys, _ := ctx.Value(systemKey{}).(bool); sys {
		return Caller{Identity: id, System: true}
	}
	return Caller{Identity: id, System: !ok}
}

type systemKey struct{}

// AsSystem returns ctx acting as the system: for domains beside the manager (the fleet) that
// decide access to their own objects before calling it. The identity stays on ctx for audit
// events; sandboxes created under it are owned by the owner the caller names.
func AsSystem(ctx context.Context) context.Context { return context.WithValue(ctx, systemKey{}, true) }

// Unrestricted reports whether the caller sees and acts on every sandbox (the system and
// admins).
func (c Caller) Unrestricted() bool { return c.System || c.IsAdmin() }

// notFound is the answer for a sandbox the caller may not see: the same as for one that does
// not exist, so that other users' sandboxes cannot be probed for.
func notFound(idOrName string) error { return errdefs.NotFound("sandbox %q not found", idOrName) }

// shareAccess is what a share role allows.
func shareAccess(r account.ShareRole) Access {
	switch r {
	case account.ShareViewer:
		return AccessView
	case account.ShareOperator:
		return AccessOperate
	}
	return 0
}

// accessOf is the most the caller may do with sb.
func (m *Manager) accessOf(ctx context.Context, c Caller, sb *sandbox.Sandbox) (Access, error) {
	if c.Unrestricted() || (sb.Owner != "" && sb.Owner == c.UserID) {
		return AccessOwn, nil
	}
	if m.cfg.Accounts == nil || c.UserID == "" {
		return 0, nil
	}
	sh, err := m.cfg.Accounts.GetShare(ctx, sb.ID, c.UserID)
	if errdefs.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read share: %w", err)
	}
	return shareAccess(sh.Role), nil
}

// authorize answers whether the caller of ctx may do what need says with sb: not found when
// they may not see it at all, permission denied when a share lets them see it but not this.
func (m *Manager) authorize(ctx context.Context, sb *sandbox.Sandbox, need Access, idOrName string) error {
	have, err := m.accessOf(ctx, CallerFrom(ctx), sb)
	switch {
	case err != nil:
		return err
	case have >= need:
		m.touch(ctx, sb.ID)
		return nil
	case have == 0:
		return notFound(idOrName)
	}
	return errdefs.New(errdefs.ErrPermissionDenied, "sandbox %q is shared with you as a %s: this needs %s", sb.Name, roleName(have), needName(need))
}

func roleName(a Access) string {
	if a == AccessView {
		return "viewer"
	}
	return "operator"
}

func needName(a Access) string {
	switch a {
	case AccessOperate:
		return "an operator share"
	case AccessOwn:
		return "its owner or an admin"
	}
	return "access"
}

// get reads a sandbox the caller may act on with need.
func (m *Manager) get(ctx context.Context, idOrName string, need Access) (*sandbox.Sandbox, error) {
	sb, err := m.store.GetSandbox(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	if err := m.authorize(ctx, sb, need, idOrName); err != nil {
		return nil, err
	}
	return sb, nil
}

// Authorize reads a sandbox and checks that the caller of ctx may act on it with need; for
// surfaces whose operation is outside the manager (share lists, run history).
func (m *Manager) Authorize(ctx context.Context, idOrName string, need Access) (*sandbox.Sandbox, error) {
	return m.get(ctx, idOrName, need)
}

// Check answers whether the caller of ctx may act on sb (a record read without a check, as
// on the port routes, which also admit anonymous requests with a traffic token) with need:
// not found (naming idOrName) when they may not see it, permission denied when a share
// lets them see it but not this.
func (m *Manager) Check(ctx context.Context, sb *sandbox.Sandbox, need Access, idOrName string) error {
	return m.authorize(ctx, sb, need, idOrName)
}

// visible filters sbs down to what the caller of ctx may see: their own and those shared
// with them (everything for admins and the system).
func (m *Manager) visible(ctx context.Context, sbs []*sandbox.Sandbox) ([]*sandbox.Sandbox, error) {
	c := CallerFrom(ctx)
	if c.Unrestricted() {
		return sbs, nil
	}
	shared := map[string]bool{}
	if m.cfg.Accounts != nil && c.UserID != "" {
		shs, err := m.cfg.Accounts.ListSharesOf(ctx, c.UserID)
		if err != nil {
			return nil, fmt.Errorf("read shares: %w", err)
		}
		for _, sh := range shs {
			shared[sh.SandboxID] = true
		}
	}
	out := sbs[:0:0]
	for _, sb := range sbs {
		if (sb.Owner != "" && sb.Owner == c.UserID) || shared[sb.ID] {
			out = append(out, sb)
		}
	}
	return out, nil
}

// ownerOf is the owner a new sandbox gets: the calling user, else what the surface named.
func ownerOf(ctx context.Context, fallback string) string {
	if c := CallerFrom(ctx); !c.System && c.UserID != "" {
		return c.UserID
	}
	return fallback
}

// AdoptUnowned gives owner every sandbox whose owner keep rejects: at start-up, sandboxes made
// before there were users (owned by a key ID, or by nobody) go to the first admin. It answers
// how many changed.
func (m *Manager) AdoptUnowned(ctx context.Context, owner string, keep func(owner string) bool) (int, error) {
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sb := range sbs {
		if keep(sb.Owner) {
			continue
		}
		unlock, err := m.lock(ctx, sb.ID)
		if err != nil {
			return n, err
		}
		cur, err := m.store.GetSandbox(ctx, sb.ID)
		if err == nil && !keep(cur.Owner) {
			cur.Owner = owner
			err = m.updateRecord(ctx, cur)
			n++
		}
		unlock()
		if err != nil && !errdefs.IsNotFound(err) {
			return n, fmt.Errorf("adopt %s: %w", sb.Name, err)
		}
	}
	return n, nil
}
