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
	now := m.cfg.Now()
	// The ledger before the store: a create that writes its record and then settles in
	// between is seen in both (and counted once, below), never in neither.
	pending, err := m.quota.Pending(ctx, userID, now)
	if err != nil {
		return Usage{}, fmt.Errorf("read pending creates: %w", err)
	}
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{Owner: userID,
		States: []sandbox.State{sandbox.StateRunning, sandbox.StatePaused}})
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	counted := make(map[string]bool, len(sbs))
	for _, sb := range sbs {
		u.Sandboxes++
		u.MemoryMB += sb.Instance.Resources.MemoryMB
		u.VCPUs += sb.Instance.Resources.VCPUs
		counted[sb.Name] = true
	}
	for _, r := range pending {
		if !counted[r.Sandbox] {
			u.Sandboxes++
			u.MemoryMB += r.MemoryMB
			u.VCPUs += r.VCPUs
		}
	}
	if u.CreatesLastMinute, err = m.quota.CreatesSince(ctx, userID, now.Add(-time.Minute)); err != nil {
		return Usage{}, fmt.Errorf("read recent creates: %w", err)
	}
	if count := m.sessions.Load(); count != nil {
		u.Sessions = (*count)(userID)
	}
	return u, nil
}

// reserve checks that the caller of ctx may start the sandbox name with res and books it in
// the ledger until the returned hold is settled: by hold.made once its record says running,
// or given up by hold.release. Admins and the system are not limited (their hold
// books nothing). Over quota is errdefs.ErrResourceExhausted naming the limit and the
// current use.
func (m *Manager) reserve(ctx context.Context, name string, res sandbox.Resources, isCreate bool) (*quotaHold, error) {
	c := CallerFrom(ctx)
	if c.Unrestricted() || c.UserID == "" {
		return &quotaHold{}, nil
	}
	q, err := m.QuotaOf(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	if q == (account.Quota{}) {
		return &quotaHold{}, nil
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
	r := Reservation{ID: newToken(), UserID: c.UserID, Sandbox: name, MemoryMB: res.MemoryMB, VCPUs: res.VCPUs, Create: isCreate,
		At: now, Expires: now.Add(m.cfg.ReservationTTL)}
	if err := m.quota.Reserve(ctx, r); err != nil {
		return nil, fmt.Errorf("reserve quota: %w", err)
	}
	h := &quotaHold{m: m, r: r, stop: make(chan struct{}), renewed: make(chan struct{})}
	go h.renew()
	return h, nil
}

// quotaHold is a reservation that reserve booked, until it is settled. Not safe for
// concurrent use: it belongs to the create or start that made it.
type quotaHold struct {
	m       *Manager
	r       Reservation // zero: nothing booked
	settled bool
	// renew runs until settle closes stop, and closes renewed when it has returned.
	stop, renewed chan struct{}
}

// renew extends the reservation every ReservationRenew while the create runs, so that only a
// replica that died lets it lapse.
func (h *quotaHold) renew() {
	defer close(h.renewed)
	t := time.NewTicker(h.m.cfg.ReservationRenew)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), h.m.cfg.ReservationRenew)
		err := h.m.quota.Extend(ctx, h.r.ID, h.m.cfg.Now().Add(h.m.cfg.ReservationTTL))
		cancel()
		if err != nil {
			h.m.log.Warn("quota reservation not renewed", "user", h.r.UserID, "err", err)
		}
	}
}

// made settles the reservation once the sandbox's record says running (and counts instead).
func (h *quotaHold) made(ctx context.Context) {
	if h.r.ID != "" {
		h.settle(ctx, true)
	}
}

// release gives the reservation up unless made settled it; callers defer it.
func (h *quotaHold) release(ctx context.Context) {
	if h.r.ID != "" && !h.settled {
		h.settle(ctx, false)
	}
}

func (h *quotaHold) settle(ctx context.Context, made bool) {
	h.settled = true
	close(h.stop)
	<-h.renewed
	// Past the caller's context: a reservation left behind would hold quota until it expires.
	sctx, cancel := cleanupCtx(ctx)
	defer cancel()
	if err := h.m.quota.Settle(sctx, h.r.ID, made); err != nil {
		h.m.log.Warn("quota reservation not settled; it counts until it expires", "user", h.r.UserID,
			"expires", h.r.Expires, "err", err)
	}
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
