package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
)

// Agents is an in-memory agentrun.Store. Safe for concurrent use.
type Agents struct {
	mu       sync.Mutex
	runs     map[string]agentRun
	sessions map[string]agentrun.Session
}

type agentRun struct {
	run agentrun.Run
	evs []json.RawMessage
}

var _ agentrun.Store = (*Agents)(nil)

// NewAgents returns an empty store.
func NewAgents() *Agents {
	return &Agents{runs: map[string]agentRun{}, sessions: map[string]agentrun.Session{}}
}

// PutAgentRun implements agentrun.Store.
func (a *Agents) PutAgentRun(_ context.Context, r *agentrun.Run) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.runs[r.ID]
	a.runs[r.ID] = agentRun{run: copyRun(*r), evs: old.evs}
	return nil
}

// SetAgentRunEvents implements agentrun.Store.
func (a *Agents) SetAgentRunEvents(_ context.Context, id string, evs []json.RawMessage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.runs[id]
	if !ok {
		return errdefs.NotFound("run %q not found", id)
	}
	r.evs = make([]json.RawMessage, len(evs))
	for i, e := range evs {
		r.evs[i] = slices.Clone(e)
	}
	a.runs[id] = r
	return nil
}

// GetAgentRun implements agentrun.Store.
func (a *Agents) GetAgentRun(_ context.Context, id string) (*agentrun.Run, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.runs[id]
	if !ok {
		return nil, errdefs.NotFound("run %q not found", id)
	}
	c := copyRun(r.run)
	return &c, nil
}

// AgentRunEvents implements agentrun.Store.
func (a *Agents) AgentRunEvents(_ context.Context, id string) ([]json.RawMessage, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.runs[id]
	if !ok {
		return nil, errdefs.NotFound("run %q not found", id)
	}
	out := make([]json.RawMessage, len(r.evs))
	for i, e := range r.evs {
		out[i] = slices.Clone(e)
	}
	return out, nil
}

// ListAgentRuns implements agentrun.Store.
func (a *Agents) ListAgentRuns(_ context.Context, f agentrun.Filter) ([]agentrun.Run, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []agentrun.Run{}
	for _, r := range a.runs {
		if (f.Owner == "" || r.run.Owner == f.Owner) && (f.Session == "" || r.run.SessionID == f.Session) {
			out = append(out, copyRun(r.run))
		}
	}
	slices.SortFunc(out, func(x, y agentrun.Run) int {
		return cmp.Or(y.StartedAt.Compare(x.StartedAt), cmp.Compare(y.ID, x.ID))
	})
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return out[:min(limit, len(out))], nil
}

// FailRunningAgentRuns implements agentrun.Store.
func (a *Agents) FailRunningAgentRuns(_ context.Context, msg string, at time.Time) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for id, r := range a.runs {
		if r.run.Status == agentrun.StatusRunning {
			r.run.Status, r.run.Error, r.run.CompletedAt = agentrun.StatusError, msg, &at
			a.runs[id] = r
			n++
		}
	}
	return n, nil
}

// PutAgentSession implements agentrun.Store.
func (a *Agents) PutAgentSession(_ context.Context, s *agentrun.Session) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[s.ID] = copySession(*s)
	return nil
}

// GetAgentSession implements agentrun.Store.
func (a *Agents) GetAgentSession(_ context.Context, id string) (*agentrun.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[id]
	if !ok {
		return nil, errdefs.NotFound("session %q not found", id)
	}
	c := copySession(s)
	return &c, nil
}

// ListAgentSessions implements agentrun.Store.
func (a *Agents) ListAgentSessions(_ context.Context, owner string, live bool, limit int) ([]agentrun.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []agentrun.Session{}
	for _, s := range a.sessions {
		if (owner == "" || s.Owner == owner) && (!live || s.Live()) {
			out = append(out, copySession(s))
		}
	}
	slices.SortFunc(out, func(x, y agentrun.Session) int {
		return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(y.ID, x.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func copyRun(r agentrun.Run) agentrun.Run {
	if r.CompletedAt != nil {
		t := *r.CompletedAt
		r.CompletedAt = &t
	}
	return r
}

func copySession(s agentrun.Session) agentrun.Session {
	if s.SandboxID != nil {
		v := *s.SandboxID
		s.SandboxID = &v
	}
	return s
}
