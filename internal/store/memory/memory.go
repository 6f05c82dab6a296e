// Package memory is an in-memory sandbox.Store for tests and one-shot engines.
package memory

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"sync"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Store keeps records in a map. Safe for concurrent use; it hands out copies only.
type Store struct {
	mu   sync.RWMutex
	byID map[string]*sandbox.Sandbox
}

var _ sandbox.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{byID: map[string]*sandbox.Sandbox{}} }

// clone deep-copies a record through JSON, the same round trip a persistent store makes.
func clone(sb *sandbox.Sandbox) *sandbox.Sandbox {
	b, _ := json.Marshal(sb)
	var out sandbox.Sandbox
	_ = json.Unmarshal(b, &out)
	return &out
}

// CreateSandbox implements sandbox.Store.
func (s *Store) CreateSandbox(_ context.Context, sb *sandbox.Sandbox) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[sb.ID]; ok {
		return errdefs.AlreadyExists("sandbox ID %q is taken", sb.ID)
	}
	for _, o := range s.byID {
		if o.Name == sb.Name {
			return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
		}
	}
	s.byID[sb.ID] = clone(sb)
	return nil
}

// GetSandbox implements sandbox.Store.
func (s *Store) GetSandbox(_ context.Context, idOrName string) (*sandbox.Sandbox, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if sb, ok := s.byID[idOrName]; ok {
		return clone(sb), nil
	}
	for _, sb := range s.byID {
		if sb.Name == idOrName {
			return clone(sb), nil
		}
	}
	return nil, errdefs.NotFound("sandbox %q not found", idOrName)
}

// ListSandboxes implements sandbox.Store.
func (s *Store) ListSandboxes(_ context.Context, f sandbox.ListFilter) ([]*sandbox.Sandbox, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*sandbox.Sandbox{}
	for _, sb := range s.byID {
		if f.Owner != "" && sb.Owner != f.Owner {
			continue
		}
		if len(f.States) > 0 && !slices.Contains(f.States, sb.State) {
			continue
		}
		out = append(out, clone(sb))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// UpdateSandbox implements sandbox.Store.
func (s *Store) UpdateSandbox(_ context.Context, sb *sandbox.Sandbox) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[sb.ID]; !ok {
		return errdefs.NotFound("sandbox %q not found", sb.ID)
	}
	s.byID[sb.ID] = clone(sb)
	return nil
}

// DeleteSandbox implements sandbox.Store.
func (s *Store) DeleteSandbox(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
	return nil
}

// Close implements sandbox.Store.
func (s *Store) Close() error { return nil }
