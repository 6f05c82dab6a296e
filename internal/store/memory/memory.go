// Package memory holds in-memory stores (sandboxes, audit events, runs) for tests and the
// one-shot CLI engine. Nothing survives the process.
package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Store is an in-memory sandbox.Store. Safe for concurrent use. It keeps and hands out deep
// copies only, so no caller ever shares a record with it or with another caller.
type Store struct {
	mu     sync.RWMutex
	byID   map[string]*sandbox.Sandbox
	byName map[string]string    // name → ID
	used   map[string]time.Time // sandbox ID → last use (ActivityStore)
}

var (
	_ sandbox.Store         = (*Store)(nil)
	_ sandbox.ActivityStore = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{byID: map[string]*sandbox.Sandbox{}, byName: map[string]string{}, used: map[string]time.Time{}}
}

// clone deep-copies a record through JSON, the same round trip the sqlite store makes, so
// that both stores hand back the same values.
func clone(sb *sandbox.Sandbox) (*sandbox.Sandbox, error) {
	if sb == nil || sb.ID == "" || sb.Name == "" {
		return nil, errdefs.InvalidArgument("a sandbox record needs an ID and a name")
	}
	b, err := json.Marshal(sb)
	if err != nil {
		return nil, errdefs.InvalidArgument("sandbox %s cannot be stored: %v", sb.ID, err)
	}
	var out sandbox.Sandbox
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// copyOf copies a stored record, which clone has already accepted once.
func copyOf(sb *sandbox.Sandbox) *sandbox.Sandbox {
	c, _ := clone(sb)
	return c
}

// CreateSandbox implements sandbox.Store.
func (s *Store) CreateSandbox(_ context.Context, sb *sandbox.Sandbox) error {
	c, err := clone(sb)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; ok {
		return errdefs.AlreadyExists("sandbox ID %q is taken", c.ID)
	}
	if _, ok := s.byName[c.Name]; ok {
		return errdefs.AlreadyExists("sandbox name %q is taken", c.Name)
	}
	s.byID[c.ID], s.byName[c.Name] = c, c.ID
	return nil
}

// GetSandbox implements sandbox.Store. An ID match wins over a name match.
func (s *Store) GetSandbox(_ context.Context, idOrName string) (*sandbox.Sandbox, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sb, ok := s.byID[idOrName]
	if !ok {
		sb, ok = s.byID[s.byName[idOrName]]
	}
	if !ok {
		return nil, errdefs.NotFound("sandbox %q not found", idOrName)
	}
	return copyOf(sb), nil
}

// ListSandboxes implements sandbox.Store: oldest first, then by ID.
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
		if f.GuestToken != "" && sb.GuestToken != f.GuestToken {
			continue
		}
		out = append(out, copyOf(sb))
	}
	slices.SortFunc(out, func(a, b *sandbox.Sandbox) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UpdateSandbox implements sandbox.Store. Renaming to a taken name is ErrAlreadyExists.
func (s *Store) UpdateSandbox(_ context.Context, sb *sandbox.Sandbox) error {
	c, err := clone(sb)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[c.ID]
	if !ok {
		return errdefs.NotFound("sandbox %q not found", c.ID)
	}
	if id, taken := s.byName[c.Name]; taken && id != c.ID {
		return errdefs.AlreadyExists("sandbox name %q is taken", c.Name)
	}
	delete(s.byName, old.Name)
	s.byID[c.ID], s.byName[c.Name] = c, c.ID
	return nil
}

// DeleteSandbox implements sandbox.Store.
func (s *Store) DeleteSandbox(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sb, ok := s.byID[id]; ok {
		delete(s.byName, sb.Name)
		delete(s.byID, id)
		delete(s.used, id)
	}
	return nil
}

// NoteActivity implements sandbox.ActivityStore.
func (s *Store) NoteActivity(_ context.Context, used map[string]time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, at := range used {
		if _, ok := s.byID[id]; ok && at.After(s.used[id]) {
			s.used[id] = at
		}
	}
	return nil
}

// LastActivity implements sandbox.ActivityStore.
func (s *Store) LastActivity(_ context.Context, ids []string) (map[string]time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		if at, ok := s.used[id]; ok {
			out[id] = at
		}
	}
	return out, nil
}

// Close implements sandbox.Store; the records stay readable.
func (s *Store) Close() error { return nil }
