package manager

import (
	"context"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// DefaultOrphanGrace is how long, by default, a shared driver's unit must be seen without a
// sandbox record or a warm unit's row before it is deleted: well beyond the longest create
// (a pod may take 2 minutes to start) and warm-pool make (a warmup may take 5).
const DefaultOrphanGrace = 10 * time.Minute

// orphans remembers when the leader's pass first saw each unit that nothing names.
type orphans struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// collectOrphans deletes the shared driver's units that neither a sandbox record nor a warm
// unit's row names, once seen so on two passes at least OrphanGrace apart: a replica that
// died mid-create, or after claiming a warm unit, leaves such a unit. The units are listed
// before the records and rows, so a unit made before the first pass that is a create in
// progress has its record by the second. A new leader starts with nothing seen.
func (m *Manager) collectOrphans(ctx context.Context) {
	units, err := m.units(ctx)
	if err != nil {
		m.log.Error("reconcile: list units", "err", err)
		return
	}
	named, err := m.namedUnits(ctx)
	if err != nil {
		m.log.Error("reconcile: orphans", "err", err)
		return
	}
	now := m.cfg.Now()
	var due []string
	m.orphans.mu.Lock()
	if m.orphans.seen == nil {
		m.orphans.seen = map[string]time.Time{}
	}
	for id := range m.orphans.seen {
		if _, ok := units[id]; !ok || named[id] {
			delete(m.orphans.seen, id)
		}
	}
	for id := range units {
		first, ok := m.orphans.seen[id]
		switch {
		case named[id]:
		case !ok:
			m.orphans.seen[id] = now
		case now.Sub(first) >= m.cfg.OrphanGrace:
			due = append(due, id)
		}
	}
	m.orphans.mu.Unlock()
	for _, id := range due {
		m.collectOrphan(ctx, id)
	}
}

// namedUnits returns the IDs that a sandbox record (of any state) or a warm row names.
func (m *Manager) namedUnits(ctx context.Context) (map[string]bool, error) {
	recs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{})
	if err != nil {
		return nil, err
	}
	rows, err := m.pools.warm.ListWarm(ctx)
	if err != nil {
		return nil, err
	}
	named := make(map[string]bool, len(recs)+len(rows))
	for _, sb := range recs {
		named[sb.ID] = true
	}
	for _, u := range rows {
		named[u.ID] = true
	}
	return named, nil
}

// collectOrphan deletes one orphaned unit, after checking under its lock that it still has
// no record (a create holds the lock while it writes the record).
func (m *Manager) collectOrphan(ctx context.Context, id string) {
	unlock, free := m.tryLock(ctx, id)
	if !free {
		return
	}
	defer unlock()
	if _, err := m.store.GetSandbox(ctx, id); !errdefs.IsNotFound(err) {
		return
	}
	m.orphans.mu.Lock()
	delete(m.orphans.seen, id)
	m.orphans.mu.Unlock()
	m.log.Warn("reconcile: deleting a unit that no sandbox or warm pool has had for the grace",
		"sandbox", id, "grace", m.cfg.OrphanGrace)
	m.discard(ctx, id)
}
