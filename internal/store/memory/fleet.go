package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
)

// Fleet keeps Trinity agents in memory. Safe for concurrent use.
type Fleet struct {
	mu     sync.RWMutex
	agents map[string]*fleet.Agent // by ID
	logs   map[string][]byte       // by agent ID
}

var _ fleet.Store = (*Fleet)(nil)

// NewFleet returns an empty agent store.
func NewFleet() *Fleet {
	return &Fleet{agents: map[string]*fleet.Agent{}, logs: map[string][]byte{}}
}

// copyAgent deep-copies through JSON, as the sqlite store does.
func copyAgent(a *fleet.Agent) *fleet.Agent {
	b, _ := json.Marshal(a)
	var out fleet.Agent
	_ = json.Unmarshal(b, &out)
	return &out
}

func checkAgent(a *fleet.Agent) error {
	if a == nil || a.ID == "" || a.Name == "" {
		return errdefs.InvalidArgument("an agent needs an ID and a name")
	}
	return nil
}

// byNameLocked finds an agent by name.
func (f *Fleet) byNameLocked(name string) *fleet.Agent {
	for _, a := range f.agents {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// CreateAgent implements fleet.Store.
func (f *Fleet) CreateAgent(_ context.Context, a *fleet.Agent) error {
	if err := checkAgent(a); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.agents[a.ID]; ok {
		return errdefs.AlreadyExists("agent %q already exists", a.ID)
	}
	if f.byNameLocked(a.Name) != nil {
		return errdefs.AlreadyExists("agent %q already exists", a.Name)
	}
	f.agents[a.ID] = copyAgent(a)
	return nil
}

// GetAgent implements fleet.Store.
func (f *Fleet) GetAgent(_ context.Context, idOrName string) (*fleet.Agent, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if a, ok := f.agents[idOrName]; ok {
		return copyAgent(a), nil
	}
	if a := f.byNameLocked(idOrName); a != nil {
		return copyAgent(a), nil
	}
	return nil, errdefs.NotFound("agent %q not found", idOrName)
}

// ListAgents implements fleet.Store.
func (f *Fleet) ListAgents(context.Context) ([]*fleet.Agent, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*fleet.Agent, 0, len(f.agents))
	for _, a := range f.agents {
		out = append(out, copyAgent(a))
	}
	slices.SortFunc(out, func(a, b *fleet.Agent) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateAgent implements fleet.Store.
func (f *Fleet) UpdateAgent(_ context.Context, a *fleet.Agent) error {
	if err := checkAgent(a); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.agents[a.ID]; !ok {
		return errdefs.NotFound("agent %q not found", a.ID)
	}
	if other := f.byNameLocked(a.Name); other != nil && other.ID != a.ID {
		return errdefs.AlreadyExists("agent %q already exists", a.Name)
	}
	f.agents[a.ID] = copyAgent(a)
	return nil
}

// DeleteAgent implements fleet.Store.
func (f *Fleet) DeleteAgent(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.agents, id)
	delete(f.logs, id)
	return nil
}

// AppendAgentLog implements fleet.Store.
func (f *Fleet) AppendAgentLog(_ context.Context, id string, data []byte, max int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.agents[id]; !ok {
		return errdefs.NotFound("agent %q not found", id)
	}
	f.logs[id] = fleet.TrimLog(append(append([]byte(nil), f.logs[id]...), data...), max)
	return nil
}

// AgentLog implements fleet.Store.
func (f *Fleet) AgentLog(_ context.Context, id string) ([]byte, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return append([]byte{}, f.logs[id]...), nil
}
