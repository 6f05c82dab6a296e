package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Usage is what a user holds against their quota.
type Usage struct {
	// Sandboxes counts running and paused sandboxes; MemoryMB and VCPUs sum their limits.
	Sandboxes int     `json:"sandboxes"`
	MemoryMB  int64   `json:"memory_mb"`
	VCPUs     float64 `json:"vcpus"`
	// CreatesLastMinute counts sandbox creations (pool claims included) in the last minute.
	CreatesLastMinute int `json:"creates_last_minute"`
	// Sessions counts code sessions (KernelBox kernels), which the session registry limits.
	Sessions int `json:"sessions"`
}

// CountSessionsWith lets UsageOf report a user's code sessions, which the session registry
// keeps (and checks against the quota) itself.
func (m *Manager) CountSessionsWith(count func(userID string) int) { m.sessions.Store(&count) }

// QuotaOf is a user's quota: their override when the account store holds one, else the
// configured default. Zero fields mean no limit.
func (m *Manager) QuotaOf(ctx context.Context, userID string) (account.Quota, error) {
	if m.cfg.Accounts != nil && userID != "" {
		q, err := m.cfg.Accounts.GetQuota(ctx, userID)
		if err == nil {
			return *q, nil
		}
		if !errdefs.IsNotFound(err) {
			return account.Quota{}, fmt.Errorf("read quota: %w", err)
		}
	}
	return m.cfg.Quota, nil
}

// UsageOf is what a user holds now: their running and paused sandboxes (creates under way
// included) and their creations in the last minute.
func (m *Manager) UsageOf(ctx context.Context, userID string) (Usage, error) {
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{Owner: userID,
		States: []sandbox.State{sandbox.StateRunning, sandbox.StatePaused}})
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	for _, sb := range sbs {
		u.Sandboxes++
		u.MemoryMB += sb.Instance.Resources.MemoryMB
		u.VCPUs += sb.Instance.Resources.VCPUs
	}
	now := m.cfg.Now()
	pending, err := m.quota.Pending(ctx, userID, now)
	if err != nil {
		return Usage{}, fmt.Errorf("read pending creates: %w", err)
	}
	u.Sandboxes += pending.Sandboxes
	u.MemoryMB += pending.MemoryMB
	u.VCPUs += pending.VCPUs
	if u.CreatesLastMinute, err = m.quota.CreatesSince(ctx, userID, now.Add(-time.Minute)); err != nil {
		return Usage{}, fmt.Errorf("read recent creates: %w", err)
	}
	if count := m.sessions.Load(); count != nil {
		u.Sessions = (*count)(userID)
	}
	return u, nil
}

// reserve checks that the caller of ctx may start a sandbox with res and books it; release
// ends the booking once the sandbox is recorded (made true) or given up (made false, which
// also forgets the creation). Admins and the system are not limited. Over quota is
// errdefs.ErrResourceExhausted naming the limit and the current use.
func (m *Manager) reserve(ctx context.Context, res sandbox.Resources, isCreate bool) (release func(made bool), err error) {
	c := CallerFrom(ctx)
	if c.Unrestricted() || c.UserID == "" {
		return func(bool) {}, nil
	}
	q, err := m.QuotaOf(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	if q == (account.Quota{}) {
		return func(bool) {}, nil
	}
	// Held while the user's create is checked and reserved.
	unlock, err := m.locker.Lock(ctx, "quota:"+c.UserID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	use, err := m.UsageOf(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	if err := overQuota(q, use, res, isCreate); err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	r := Reservation{ID: newToken(), UserID: c.UserID, MemoryMB: res.MemoryMB, VCPUs: res.VCPUs, Create: isCreate,
		At: now, Expires: now.Add(m.cfg.ReservationTTL)}
	if err := m.quota.Reserve(ctx, r); err != nil {
		return nil, fmt.Errorf("reserve quota: %w", err)
	}
	return func(made bool) {
		// Past the create's own context: a reservation left behind would hold quota until it expires.
		sctx, cancel := cleanupCtx(ctx)
		defer cancel()
		if err := m.quota.Settle(sctx, r.ID, made); err != nil {
			m.log.Warn("quota reservation not settled; it counts until it expires", "user", c.UserID,
				"expires", r.Expires, "err", err)
		}
	}, nil
}

// overQuota says which limit one more sandbox with res would pass.
func overQuota(q account.Quota, use Usage, res sandbox.Resources, isCreate bool) error {
	switch {
	case q.Sandboxes > 0 && use.Sandboxes+1 > q.Sandboxes:
		return errdefs.New(errdefs.ErrResourceExhausted, "quota exceeded: at most %d running sandboxes, %d in use", q.Sandboxes, use.Sandboxes)
	case q.MemoryMB > 0 && use.MemoryMB+res.MemoryMB > int64(q.MemoryMB):
		return errdefs.New(errdefs.ErrResourceExhausted, "quota exceeded: at most %d MB of memory in running sandboxes, %d MB in use and %d MB asked", q.MemoryMB, use.MemoryMB, res.MemoryMB)
	case q.VCPUs > 0 && use.VCPUs+res.VCPUs > float64(q.VCPUs):
		return errdefs.New(errdefs.ErrResourceExhausted, "quota exceeded: at most %d vCPUs in running sandboxes, %g in use and %g asked", q.VCPUs, use.VCPUs, res.VCPUs)
	case isCreate && q.CreatesPerMinute > 0 && use.CreatesLastMinute+1 > q.CreatesPerMinute:
		return errdefs.New(errdefs.ErrResourceExhausted, "quota exceeded: at most %d sandbox creations a minute, %d in the last minute", q.CreatesPerMinute, use.CreatesLastMinute)
	}
	return nil
}
