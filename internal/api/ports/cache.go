package ports

import (
	"context"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// cacheTTL is how long a sandbox record read for a proxied request is reused. Reading the
// store was a third of the server's CPU per proxied request; the record's only fields that
// change under a running sandbox are its state (a stopped sandbox's tunnels fail anyway) and
// its public ports, whose changes through this surface drop the entry at once.
const cacheTTL = time.Second

// maxCached bounds the cache; when full it starts over.
const maxCached = 4096

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
	if ok && now.Sub(e.at) < cacheTTL {
		return e.sb, nil
	}
	sb, err := load(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCached {
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
