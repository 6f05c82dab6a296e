package memory

import (
	"context"
	"sort"
	"sync"

	"github.com/paddock/paddock/internal/sandbox"
)

// Runs is an in-memory sandbox.RunStore.
type Runs struct {
	mu   sync.Mutex
	runs []sandbox.Run
}

var _ sandbox.RunStore = (*Runs)(nil)

// RecordRun implements sandbox.RunStore.
func (s *Runs) RecordRun(_ context.Context, r sandbox.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ID = int64(len(s.runs) + 1)
	s.runs = append(s.runs, r)
	return nil
}

// ListRuns implements sandbox.RunStore.
func (s *Runs) ListRuns(_ context.Context, owner string, limit int) ([]sandbox.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []sandbox.Run{}
	for _, r := range s.runs {
		if owner == "" || r.Owner == owner {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
