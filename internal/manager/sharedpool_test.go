package manager_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/leader"
	"github.com/paddock/paddock/internal/lock"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// following is the elector of a replica that never leads.
type following struct{}

func (following) Run(ctx context.Context, _ func(context.Context)) error { <-ctx.Done(); return nil }
func (following) IsLeader() bool                                         { return false }

// clock is a settable clock for the managers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// replicas shares one store, warm store, locker, bus and fake driver directory between
// two managers, as two processes on one database and one cluster would.
type replicas struct {
	store *memory.Store
	warm  *memory.Warm
	clock *clock
	drv   [2]*fake.Driver
	m     [2]*manager.Manager
}

// newReplicas starts two managers on shared state; the first leads, the second never does.
// Their periodic pass is off: tests run it with CheckAll.
func newReplicas(t *testing.T, pools ...manager.PoolConfig) *replicas {
	t.Helper()
	dir := testenv.TempDir(t)
	r := &replicas{store: memory.New(), warm: &memory.Warm{}, clock: &clock{now: time.Now()}}
	locker, bus := &lock.Local{}, &invalidate.Local{}
	for i, el := range []leader.Elector{leader.Always{}, following{}} {
		drv, err := fake.NewShared(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		campaign := leader.Start(el, slog.New(slog.DiscardHandler))
		m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: r.store, Images: images{},
			Pools: pools, Reconcile: true, SharedDriver: true, Warm: r.warm, Leader: campaign, Locker: locker,
			Invalidate: bus, ReconcileInterval: -1, Now: r.clock.Now, OrphanGrace: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = m.Close(context.Background())
			campaign.Stop()
			for _, u := range listUnits(t, drv) {
				_ = drv.Delete(context.Background(), u.ID)
			}
		})
		r.drv[i], r.m[i] = drv, m
	}
	return r
}

func listUnits(t *testing.T, drv *fake.Driver) []sandbox.Instance {
	t.Helper()
	us, err := drv.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func (r *replicas) warmIDs(t *testing.T) []string {
	t.Helper()
	us, err := r.warm.ListWarm(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

// TestSharedPoolFilledOnce: two replicas with a pool of 2 keep 2 warm units in all, made
// by the leader; the follower reports them ready and claims one, which the leader replaces;
// a resize and a removal through the leader shrink the cluster's pool.
func TestSharedPoolFilledOnce(t *testing.T) {
	base := manager.PoolConfig{Template: "base", Image: "base", Profile: "moderate", Size: 2}
	r := newReplicas(t, base)
	ctx := context.Background()
	waitFor(t, "the leader to fill the pool", func() bool { return len(r.warmIDs(t)) == 2 })
	// Filled once: the follower makes nothing, however long it is given.
	time.Sleep(300 * time.Millisecond)
	if n := len(listUnits(t, r.drv[0])); n != 2 {
		t.Fatalf("%d units in the cluster, want 2 (one pool of 2, filled once)", n)
	}
	if n := len(listUnits(t, r.drv[1])); n != 2 {
		t.Fatalf("the follower sees %d units, want the leader's 2", n)
	}
	if !poolsReady(r.m[1], map[string]int{"base": 2}) {
		t.Fatalf("the follower's pool stats: %+v, want the cluster's 2 ready", r.m[1].PoolStats())
	}

	warm := r.warmIDs(t)
	sb, err := r.m[1].Create(ctx, sandbox.Spec{Name: "claimed", Template: "base"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(warm, sb.ID) {
		t.Fatalf("the follower's create made %s, not one of the warm units %v", sb.ID, warm)
	}
	res, err := r.m[1].Exec(ctx, "claimed", manager.ExecRequest{Command: []string{"echo", "hi"}})
	if err != nil || string(res.Stdout) != "hi\n" {
		t.Fatalf("exec in the claimed unit: %+v, %v", res, err)
	}
	waitFor(t, "the leader to replace the claimed unit", func() bool {
		ids := r.warmIDs(t)
		return len(ids) == 2 && !slices.Contains(ids, sb.ID)
	})
	if st := r.m[1].PoolStats(); st[0].Claims != 1 || r.m[0].PoolStats()[0].Claims != 0 {
		t.Errorf("claims are per replica: follower %+v, leader %+v", st, r.m[0].PoolStats())
	}

	base.Size = 1
	if err := r.m[0].SetPools(ctx, []manager.PoolConfig{base}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pool to shrink to 1", func() bool { return len(r.warmIDs(t)) == 1 })
	if err := r.m[0].SetPools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed pool's units to go", func() bool {
		return len(r.warmIDs(t)) == 0 && len(listUnits(t, r.drv[0])) == 1 // the claimed one
	})
}

// TestOrphansCollectedAfterGrace: the leader's pass deletes a unit nothing names once it has
// seen it so for the grace, not before; a create in progress (unit first, record later)
// keeps its unit; a warm row whose unit is gone is dropped.
func TestOrphansCollectedAfterGrace(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	// Units of the follower's process, as a dead replica or a create under way leaves them.
	for _, id := range []string{"sorphan", "screating"} {
		if err := r.drv[1].Create(ctx, sandbox.InstanceSpec{ID: id, Labels: map[string]string{sandbox.LabelID: id}}); err != nil {
			t.Fatal(err)
		}
		if err := r.drv[1].Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.warm.PutWarm(ctx, &manager.WarmUnit{ID: "sgone", Pool: "k", MadeAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	has := func(id string) bool {
		return slices.ContainsFunc(listUnits(t, r.drv[0]), func(u sandbox.Instance) bool { return u.ID == id })
	}

	manager.CheckAll(r.m[0], ctx) // first seen
	if ids := r.warmIDs(t); len(ids) != 0 {
		t.Errorf("warm rows whose unit is gone kept: %v", ids)
	}
	r.clock.add(30 * time.Second)
	manager.CheckAll(r.m[0], ctx)
	if !has("sorphan") {
		t.Fatal("an orphan was deleted before the grace")
	}
	// The create finishes: its record comes after its unit.
	now := r.clock.Now()
	if err := r.store.CreateSandbox(ctx, &sandbox.Sandbox{ID: "screating", Name: "creating", State: sandbox.StateRunning,
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	r.clock.add(31 * time.Second)
	manager.CheckAll(r.m[0], ctx)
	if has("sorphan") {
		t.Error("the orphan is still there a grace after it was first seen")
	}
	if !has("screating") {
		t.Error("the unit of a create in progress was deleted")
	}
}

// TestSharedPoolTrimsAnOldLeadersMake: a unit put beyond the pool's size (as by a make of a
// previous leader that finished after its term) is removed by the leader, unit and row.
func TestSharedPoolTrimsAnOldLeadersMake(t *testing.T) {
	r := newReplicas(t, manager.PoolConfig{Template: "base", Image: "base", Profile: "moderate", Size: 1})
	ctx := context.Background()
	waitFor(t, "the leader to fill the pool", func() bool { return len(r.warmIDs(t)) == 1 })
	rows, err := r.warm.ListWarm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	late := rows[0]
	late.ID, late.MadeAt = "slate", late.MadeAt.Add(-time.Second) // the oldest: claimed first
	late.Instance.ID = late.ID
	if err := r.drv[1].Create(ctx, late.Instance); err != nil {
		t.Fatal(err)
	}
	if err := r.drv[1].Start(ctx, late.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.warm.PutWarm(ctx, &late); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the surplus to go", func() bool { return len(r.warmIDs(t)) == 1 && len(listUnits(t, r.drv[0])) == 1 })
}
