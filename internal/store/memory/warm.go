package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// Warm is an in-memory manager.WarmStore, for tests of replicas sharing pools inside one
// process; the zero value is ready. It hands out deep copies only.
type Warm struct {
	mu    sync.Mutex
	units map[string]manager.WarmUnit
}

var _ manager.WarmStore = (*Warm)(nil)

func copyWarm(u manager.WarmUnit) (manager.WarmUnit, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return manager.WarmUnit{}, errdefs.InvalidArgument("warm unit %s cannot be stored: %v", u.ID, err)
	}
	var c manager.WarmUnit
	err = json.Unmarshal(b, &c)
	return c, err
}

// PutWarm implements manager.WarmStore.
func (w *Warm) PutWarm(_ context.Context, u *manager.WarmUnit) error {
	if u == nil || u.ID == "" || u.Pool == "" {
		return errdefs.InvalidArgument("a warm unit needs an ID and a pool")
	}
	c, err := copyWarm(*u)
	if err != nil {
		return err
	}
	c.MadeAt = c.MadeAt.UTC().Truncate(time.Microsecond) // what the SQL stores keep
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.units[c.ID]; ok {
		return errdefs.AlreadyExists("warm unit %q exists", c.ID)
	}
	if w.units == nil {
		w.units = map[string]manager.WarmUnit{}
	}
	w.units[c.ID] = c
	return nil
}

// ClaimWarm implements manager.WarmStore.
func (w *Warm) ClaimWarm(_ context.Context, pool string) (*manager.WarmUnit, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var oldest *manager.WarmUnit
	for _, u := range w.units {
		if u.Pool == pool && (oldest == nil || compareWarm(u, *oldest) < 0) {
			u := u
			oldest = &u
		}
	}
	if oldest == nil {
		return nil, errdefs.NotFound("no warm unit in pool %s", pool)
	}
	delete(w.units, oldest.ID)
	return oldest, nil
}

// DeleteWarm implements manager.WarmStore.
func (w *Warm) DeleteWarm(_ context.Context, id string) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.units[id]
	delete(w.units, id)
	return ok, nil
}

// ListWarm implements manager.WarmStore.
func (w *Warm) ListWarm(context.Context) ([]manager.WarmUnit, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]manager.WarmUnit, 0, len(w.units))
	for _, u := range w.units {
		c, _ := copyWarm(u)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b manager.WarmUnit) int {
		return cmp.Or(cmp.Compare(a.Pool, b.Pool), compareWarm(a, b))
	})
	return out, nil
}

// compareWarm orders a pool's units oldest first, then by ID.
func compareWarm(a, b manager.WarmUnit) int {
	return cmp.Or(a.MadeAt.Compare(b.MadeAt), cmp.Compare(a.ID, b.ID))
}
