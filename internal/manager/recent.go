package manager

import (
	"context"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// recentTTL is how long GetRecent reuses a record. Reading the store was a third of the
// server's CPU per proxied port request. Every change the manager makes drops the sandbox's
// entries at once, so within one server a record is never stale; the TTL bounds what another
// process sharing the store could change meanwhile.
const recentTTL = time.Second

// maxRecent bounds the cache; when full it starts over.
const maxRecent = 4096

// GetRecent is Get for hot paths (every proxied port request): it may answer a record read
// up to a second ago by this manager, never one older than this manager's last change to it.
// The record is shared: callers must not modify it.
func (m *Manager) GetRecent(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	sb, err := m.recent.get(ctx, idOrName, m.store.GetSandbox)
	if err != nil {
		return nil, err
	}
	if err := m.authorize(ctx, sb, AccessView, idOrName); err != nil {
		return nil, err
	}
	return sb, nil
}

// updateRecord writes a changed record and drops the stale cached copies.
func (m *Manager) updateRecord(ctx context.Context, sb *sandbox.Sandbox) error {
	defer m.recent.drop(sb.ID)
	return m.store.UpdateSandbox(ctx, sb)
}

// deleteRecord deletes a record and drops its cached copies.
func (m *Manager) deleteRecord(ctx context.Context, id string) error {
	defer m.recent.drop(id)
	return m.store.DeleteSandbox(ctx, id)
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

// get returns the record for idOrName, from the cache when fresh, else from load.
func (c *recordCache) get(ctx context.Context, idOrName string, load func(context.Context, string) (*sandbox.Sandbox, error)) (*sandbox.Sandbox, error) {
	now := time.Now()
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
