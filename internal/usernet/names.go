package usernet

import (
	"net/netip"
	"sync"
	"time"
)

// Name cache bounds. Answers are remembered for at least minNameTTL, because programs keep
// addresses longer than the records' TTL says (and a short TTL must not turn an allowed
// connection into a denied one a second later).
const (
	minNameTTL = 5 * time.Minute
	maxNameTTL = time.Hour
	maxNames   = 4096
)

// nameCache remembers which names the sandbox resolved to which addresses.
type nameCache struct {
	mu    sync.Mutex
	addrs map[netip.Addr]map[string]time.Time // address → name → expiry
	size  int
}

func newNameCache() *nameCache { return &nameCache{addrs: map[netip.Addr]map[string]time.Time{}} }

func (c *nameCache) add(a netip.Addr, name string, ttl time.Duration) {
	ttl = min(max(ttl, minNameTTL), maxNameTTL)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size >= maxNames {
		c.expire(now)
		if c.size >= maxNames {
			return // a sandbox resolving this many names only loses domain-based allows
		}
	}
	names := c.addrs[a]
	if names == nil {
		names = map[string]time.Time{}
		c.addrs[a] = names
	}
	if _, ok := names[name]; !ok {
		c.size++
	}
	names[name] = now.Add(ttl)
}

// lookup returns the unexpired names of a.
func (c *nameCache) lookup(a netip.Addr) []string {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for name, exp := range c.addrs[a] {
		if now.Before(exp) {
			out = append(out, name)
		}
	}
	return out
}

func (c *nameCache) expire(now time.Time) {
	for a, names := range c.addrs {
		for name, exp := range names {
			if !now.Before(exp) {
				delete(names, name)
				c.size--
			}
		}
		if len(names) == 0 {
			delete(c.addrs, a)
		}
	}
}
