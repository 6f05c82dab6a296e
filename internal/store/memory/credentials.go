package memory

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/paddock/paddock/internal/credential"
)

// Credentials is an in-memory credential.Store. Safe for concurrent use.
type Credentials struct {
	mu      sync.Mutex
	byAgent map[string]map[string]credential.Record // agent → path → record
}

var _ credential.Store = (*Credentials)(nil)

// NewCredentials returns an empty store.
func NewCredentials() *Credentials {
	return &Credentials{byAgent: map[string]map[string]credential.Record{}}
}

// PutCredentials implements credential.Store.
func (c *Credentials) PutCredentials(_ context.Context, agentID string, recs []credential.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.byAgent[agentID]
	if m == nil {
		m = map[string]credential.Record{}
		c.byAgent[agentID] = m
	}
	for _, r := range recs {
		r.Sealed = bytes.Clone(r.Sealed)
		m[r.Path] = r
	}
	return nil
}

// ListCredentials implements credential.Store.
func (c *Credentials) ListCredentials(_ context.Context, agentID string) ([]credential.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []credential.Record{}
	for _, r := range c.byAgent[agentID] {
		r.Sealed = bytes.Clone(r.Sealed)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b credential.Record) int { return cmp.Compare(a.Path, b.Path) })
	return out, nil
}

// DeleteAgentCredentials implements credential.Store.
func (c *Credentials) DeleteAgentCredentials(_ context.Context, agentID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byAgent, agentID)
	return nil
}
