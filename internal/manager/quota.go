package manager

import (
	"context"
	"fmt"
	"sync"
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

// quotaBook keeps, per user, the creations under way and the times of recent ones, so that
// concurrent creates are checked against each other and not only against the store.
type quotaBook struct {
	mu    sync.Mutex
	users map[string]*userBook
}

type userBook struct {
	pending  Usage       // reserved by creates under way
	creates  []time.Time // recent creations and reservations, oldest first
	inFlight int
}

func (b *quotaBook) user(id string) *userBook {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.users == nil {
		b.users = map[string]*userBook{}
	}
	u, ok := b.users[id]
	if !ok {
		u = &userBook{}
		b.users[id] = u
	}
	return u
}

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
	b := m.quota.user(userID)
	m.quota.mu.Lock()
	defer m.quota.mu.Unlock()
	b.prune(m.cfg.Now())
	u.Sandboxes += b.pending.Sandboxes
	u.MemoryMB += b.pending.MemoryMB
	u.VCPUs += b.pending.VCPUs
	u.CreatesLastMinute = len(b.creates)
	if count := m.sessions.Load(); count != nil {
		u.Sessions = (*count)(userID)
	}
	return u, nil
}

func (b *userBook) prune(now time.Time) {
	i := 0
	for i < len(b.creates) && now.Sub(b.creates[i]) >= time.Minute {
		i++
	}
	b.creates = b.creates[i:]
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
	b := m.quota.user(c.UserID)
	now := m.cfg.Now()
	m.quota.mu.Lock()
	b.pending.Sandboxes++
	b.pending.MemoryMB += res.MemoryMB
	b.pending.VCPUs += res.VCPUs
	if isCreate {
		b.creates = append(b.creates, now)
	}
	m.quota.mu.Unlock()
	return func(made bool) {
		m.quota.mu.Lock()
		defer m.quota.mu.Unlock()
		b.pending.Sandboxes--
		b.pending.MemoryMB -= res.MemoryMB
		b.pending.VCPUs -= res.VCPUs
		if isCreate && !made {
			for i, t := range b.creates {
				if t.Equal(now) {
					b.creates = append(b.creates[:i], b.creates[i+1:]...)
					break
				}
			}
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
