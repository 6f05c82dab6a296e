package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// slowDriver takes a while to create a unit, as a real one does: creates under way overlap
// the quota checks of others.
type slowDriver struct{ sandbox.Driver }

func (d slowDriver) Create(ctx context.Context, spec sandbox.InstanceSpec) error {
	time.Sleep(20 * time.Millisecond)
	return d.Driver.Create(ctx, spec)
}

// TestReplicasShareQuota runs two engines (two replicas) on one Postgres schema and one
// driver, and races one user's creates through both: the shared quota ledger (which
// engine.Open picks for a postgres:// store) lets exactly the quota through, for running
// sandboxes and for creations a minute alike, and both replicas report the same use.
func TestReplicasShareQuota(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	inner, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	drv := slowDriver{inner}
	open := func(q account.Quota) [2]*Engine {
		var engs [2]*Engine
		for i := range engs {
			eng, err := Open(ctx, Config{DataDir: testenv.TempDir(t), Store: db, Driver: drv, Images: baseImage{}, Quota: q})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { eng.Close(context.WithoutCancel(ctx)) })
			engs[i] = eng
		}
		return engs
	}
	cases := []struct {
		name    string
		quota   account.Quota
		limit   int
		message string
	}{
		{"Sandboxes", account.Quota{Sandboxes: 3}, 3, "quota exceeded: at most 3 running sandboxes, 3 in use"},
		{"CreatesPerMinute", account.Quota{CreatesPerMinute: 4}, 4, "quota exceeded: at most 4 sandbox creations a minute, 4 in the last minute"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			engs := open(c.quota)
			user := "usr-" + strings.ToLower(c.name)
			as := account.WithIdentity(ctx, account.Identity{UserID: user, Email: user + "@x", Role: account.RoleUser})
			made, refused := raceCreates(t, as, engs, user, 12)
			if made != c.limit || len(refused) != 12-c.limit {
				t.Fatalf("made %d, refused %d; want %d and %d", made, len(refused), c.limit, 12-c.limit)
			}
			for _, err := range refused {
				if err.Error() != c.message {
					t.Errorf("refusal %q, want %q", err, c.message)
				}
			}
			var use [2]manager.Usage
			for i, eng := range engs {
				if use[i], err = eng.UsageOf(ctx, user); err != nil {
					t.Fatal(err)
				}
			}
			if use[0] != use[1] || use[0].Sandboxes != c.limit || use[0].CreatesLastMinute != c.limit {
				t.Errorf("usage reported by the replicas: %+v and %+v, want %d sandboxes and creations each", use[0], use[1], c.limit)
			}
		})
	}
}

// raceCreates makes n creates at once as the caller of ctx, alternating between the
// engines, of sandboxes named prefix-0 and on, and returns how many succeeded and the quota refusals (any other error fails t).
func raceCreates(t *testing.T, ctx context.Context, engs [2]*Engine, prefix string, n int) (made int, refused []error) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := engs[i%2].Create(ctx, sandbox.Spec{Name: fmt.Sprintf("%s-%d", prefix, i)}, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case errors.Is(err, errdefs.ErrResourceExhausted):
				refused = append(refused, err)
			default:
				t.Errorf("create %d on replica %d: %v", i, i%2, err)
			}
		})
	}
	wg.Wait()
	return made, refused
}
