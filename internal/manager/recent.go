package manager

import (
	"context"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/sandbox"
)

// recentTTL is how long GetRecent reuses a record. Reading the store was a third of the
// server's CPU per proxied port request. Every change the manager makes drops the sandbox's
// entries at once, so within one server a record is never stale; other replicas' changes
// drop them when the invalidation bus brings them (milliseconds), and the TTL bounds how
// stale a record can be when the bus is down.
const recentTTL = time.Second

// maxRecent bounds the cache; when full it starts over.
const maxRecent = 4096

// GetRecent is Get for hot paths (every proxied port request): it may answer a record read
// up to a second ago by this manager, never one older than this manager's last change to it.
// The record is shared: callers must not modify it.
func (m *Manager) GetRecent(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	sb, err := m.recent.get(ctx, idOrName, m.cfg.Now(), m.store.GetSandbox)
	if err != nil {
		return nil, err
	}
	if err := m.authorize(ctx, sb, AccessView, idOrName); err != nil {
		return nil, err
	}
	if err := m.onThisNode(sb); err != nil {
		return nil, err
	}
	return sb, nil
}

// updateRecord writes a changed record and drops the stale cached copies, in this replica
// and (through the bus) in the others.
func (m *Manager) updateRecord(ctx context.Context, sb *sandbox.Sandbox) error {
	defer m.recent.drop(sb.ID)
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return err
	}
	kind := invalidate.Sandbox
	if sb.State != sandbox.StateRunning && sb.State != sandbox.StatePaused {
		kind = invalidate.Stopped
	}
	m.bus.Publish(kind, sb.ID)
	return nil
}

// deleteRecord deletes a record and drops its cached copies, here and in other replicas.
func (m *Manager) deleteRecord(ctx context.Context, id string) error {
	defer m.recent.drop(id)
	if err := m.store.DeleteSandbox(ctx, id); err != nil {
		return err
	}
	m.bus.Publish(invalidate.Stopped, id)
	return nil
}

// subscribe keeps the caches of sandboxes fresh when other replicas change them: a changed
// record is read again, and the guest client of a stopped or deleted sandbox is closed.
func (m *Manager) subscribe() {
	m.bus.Subscribe(invalidate.Sandbox, m.recent.dropID)
	m.bus.Subscribe(invalidate.Stopped, func(id string) {
		m.recent.dropID(id)
		if id == invalidate.All {
			return // the clients of running sandboxes are still good
		}
		m.dropClient(id)
	})
}

// recordCache keeps recently read sandbox records by the name or ID they were asked by.
type recordCache struct {
	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	sb *sandbox.Sandbox
	at time.Time
}

// get returns the record for idOrName, from the cache when fresh at now, else from load.
func (c *recordCache) get(ctx context.Context, idOrName string, now time.Time, load func(context.Context, string) (*sandbox.Sandbox, error)) (*sandbox.Sandbox, error) {
	c.mu.Lock()
	e, ok := c.entries[idOrName]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < recentTTL {
		return e.sb, nil
	}
	sb, err := load(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxRecent {
		c.entries = map[string]cached{}
	}
	c.entries[idOrName] = cached{sb: sb, at: now}
	c.mu.Unlock()
	return sb, nil
}

// dropID is drop, or a drop of every entry for invalidate.All.
func (c *recordCache) dropID(id string) {
	if id == invalidate.All {
		c.mu.Lock()
		clear(c.entries)
		c.mu.Unlock()
		return
	}
	c.drop(id)
}

// drop forgets every entry of the sandbox with this ID.
func (c *recordCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.sb.ID == id {
			delete(c.entries, k)
		}
	}
}
