package memory

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lifecycle"
)

// Lifecycle is an in-memory lifecycle.Store. It hands out copies only.
type Lifecycle struct {
	mu       sync.Mutex
	evs      []lifecycle.Event
	seq      int64
	webhooks []*lifecycle.Webhook // oldest first
}

var _ lifecycle.Store = (*Lifecycle)(nil)

// AppendLifecycleEvent implements lifecycle.Store.
func (s *Lifecycle) AppendLifecycleEvent(_ context.Context, ev *lifecycle.Event) error {
	c := *ev
	// The same JSON round trip as the sqlite store, so both hand back the same values.
	b, err := json.Marshal(ev.Data)
	if err != nil {
		return errdefs.InvalidArgument("event data cannot be stored: %v", err)
	}
	c.Data = nil
	_ = json.Unmarshal(b, &c.Data)
	c.Time = c.Time.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	c.Seq = s.seq
	ev.Seq = c.Seq
	s.evs = append(s.evs, c)
	return nil
}

// ListLifecycleEvents implements lifecycle.Store.
func (s *Lifecycle) ListLifecycleEvents(_ context.Context, f lifecycle.Filter) ([]lifecycle.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []lifecycle.Event{}
	for _, ev := range s.evs {
		if (f.All || ev.Owner == f.Owner) && (f.SandboxID == "" || ev.SandboxID == f.SandboxID) {
			out = append(out, ev)
		}
	}
	if !f.Asc {
		slices.Reverse(out)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 10
	}
	from := min(max(f.Offset, 0), len(out))
	return slices.Clone(out[from:min(from+limit, len(out))]), nil
}

// DeleteLifecycleEventsBefore implements lifecycle.Store.
func (s *Lifecycle) DeleteLifecycleEventsBefore(_ context.Context, t time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.evs)
	s.evs = slices.DeleteFunc(s.evs, func(ev lifecycle.Event) bool { return ev.Time.Before(t) })
	return int64(n - len(s.evs)), nil
}

func copyWebhook(w *lifecycle.Webhook) *lifecycle.Webhook {
	c := *w
	c.Events = slices.Clone(w.Events)
	c.CreatedAt = c.CreatedAt.UTC()
	return &c
}

func (s *Lifecycle) find(id string) int {
	return slices.IndexFunc(s.webhooks, func(w *lifecycle.Webhook) bool { return w.ID == id })
}

// CreateWebhook implements lifecycle.Store.
func (s *Lifecycle) CreateWebhook(_ context.Context, w *lifecycle.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(w.ID) >= 0 {
		return errdefs.AlreadyExists("webhook %q exists", w.ID)
	}
	s.webhooks = append(s.webhooks, copyWebhook(w))
	return nil
}

// GetWebhook implements lifecycle.Store.
func (s *Lifecycle) GetWebhook(_ context.Context, id string) (*lifecycle.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id)
	if i < 0 {
		return nil, errdefs.NotFound("webhook %q not found", id)
	}
	return copyWebhook(s.webhooks[i]), nil
}

// ListWebhooks implements lifecycle.Store.
func (s *Lifecycle) ListWebhooks(_ context.Context, owner string, all bool) ([]*lifecycle.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*lifecycle.Webhook{}
	for _, w := range s.webhooks {
		if all || w.Owner == owner {
			out = append(out, copyWebhook(w))
		}
	}
	return out, nil
}

// UpdateWebhook implements lifecycle.Store: every field but the owner and creation time.
func (s *Lifecycle) UpdateWebhook(_ context.Context, w *lifecycle.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(w.ID)
	if i < 0 {
		return errdefs.NotFound("webhook %q not found", w.ID)
	}
	c := copyWebhook(w)
	c.Owner, c.CreatedAt = s.webhooks[i].Owner, s.webhooks[i].CreatedAt
	s.webhooks[i] = c
	return nil
}

// DeleteWebhook implements lifecycle.Store.
func (s *Lifecycle) DeleteWebhook(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id)
	if i < 0 {
		return errdefs.NotFound("webhook %q not found", id)
	}
	s.webhooks = slices.Delete(s.webhooks, i, i+1)
	return nil
}
