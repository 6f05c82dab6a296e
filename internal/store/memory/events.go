package memory

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/audit"
)

// Events is an in-memory audit.Store.
type Events struct {
	mu  sync.Mutex
	evs []audit.Event
	seq int64
}

var _ audit.Store = (*Events)(nil)

// AppendEvents implements audit.Store.
func (e *Events) AppendEvents(_ context.Context, evs ...audit.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		e.seq++
		ev.ID = e.seq
		e.evs = append(e.evs, ev)
	}
	return nil
}

// ListEvents implements audit.Store.
func (e *Events) ListEvents(_ context.Context, f audit.Filter) ([]audit.Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []audit.Event{}
	for _, ev := range e.evs {
		if (f.Sandbox != "" && ev.Sandbox != f.Sandbox) || (f.Type != "" && ev.Type != f.Type) ||
			(!f.Since.IsZero() && ev.Time.Before(f.Since)) || (!f.Until.IsZero() && !ev.Time.Before(f.Until)) ||
			!f.Scope.Match(ev) {
			continue
		}
		out = append(out, ev)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// DeleteEventsBefore implements audit.Store.
func (e *Events) DeleteEventsBefore(_ context.Context, t time.Time) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	kept := e.evs[:0]
	var n int64
	for _, ev := range e.evs {
		if ev.Time.Before(t) {
			n++
			continue
		}
		kept = append(kept, ev)
	}
	e.evs = kept
	return n, nil
}
