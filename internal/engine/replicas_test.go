package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// overlapDriver is a driver shared by two replicas that counts lifecycle calls on one unit
// made while another is under way: the replicas' locking should leave none.
type overlapDriver struct {
	sandbox.Driver
	mu       sync.Mutex
	busy     map[string]string // unit ID → the call under way
	overlaps []string
	calls    int
}

func (d *overlapDriver) enter(id, op string) func() {
	d.mu.Lock()
	if cur, ok := d.busy[id]; ok {
		d.overlaps = append(d.overlaps, fmt.Sprintf("%s of %s during %s", op, id, cur))
	} else {
		d.busy[id] = op
	}
	d.calls++
	d.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // widen the window a missing lock would leave
	return func() {
		d.mu.Lock()
		if d.busy[id] == op {
			delete(d.busy, id)
		}
		d.mu.Unlock()
	}
}

func (d *overlapDriver) Start(ctx context.Context, id string) error {
	defer d.enter(id, "start")()
	return d.Driver.Start(ctx, id)
}

func (d *overlapDriver) Stop(ctx context.Context, id string, grace time.Duration) error {
	defer d.enter(id, "stop")()
	return d.Driver.Stop(ctx, id, grace)
}

func (d *overlapDriver) Delete(ctx context.Context, id string) error {
	defer d.enter(id, "delete")()
	return d.Driver.Delete(ctx, id)
}

// TestReplicasSerialiseLifecycle runs two engines (two replicas) on one Postgres schema and
// one driver, and has both stop, start and delete the same sandboxes at once: the shared
// locker (pglock, which engine.Open picks for a postgres:// store) lets no two lifecycle
// calls on one sandbox overlap in the driver, and each sandbox is deleted once.
func TestReplicasSerialiseLifecycle(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	inner, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	drv := &overlapDriver{Driver: inner, busy: map[string]string{}}
	var engs [2]*Engine
	for i := range engs {
		eng, err := Open(ctx, Config{DataDir: testenv.TempDir(t), Store: db, Driver: drv, Images: baseImage{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close(context.WithoutCancel(ctx)) })
		engs[i] = eng
	}
	const sandboxes, rounds = 3, 8
	for i := range sandboxes {
		if _, err := engs[i%2].Create(ctx, sandbox.Spec{Name: fmt.Sprintf("s%d", i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Errors a lost race may give: stopping a stopped sandbox, starting a running one.
	expected := func(err error) bool {
		return err == nil || errdefs.IsNotFound(err) || errors.Is(err, errdefs.ErrFailedPrecondition)
	}
	var wg sync.WaitGroup
	for i := range sandboxes {
		name := fmt.Sprintf("s%d", i)
		for r, eng := range engs {
			wg.Go(func() {
				for n := range rounds {
					var err error
					if (n+r)%2 == 0 {
						_, err = eng.Stop(ctx, name)
					} else {
						_, err = eng.Start(ctx, name)
					}
					if !expected(err) {
						t.Errorf("replica %d, %s, round %d: %v", r, name, n, err)
					}
				}
				if err := eng.Delete(ctx, name); !expected(err) {
					t.Errorf("replica %d: delete %s: %v", r, name, err)
				}
			})
		}
	}
	wg.Wait()
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if len(drv.overlaps) > 0 {
		t.Fatalf("%d of %d driver calls overlapped another on the same sandbox: %v", len(drv.overlaps), drv.calls, drv.overlaps)
	}
	for r, eng := range engs {
		for i := range sandboxes {
			if _, err := eng.Get(ctx, fmt.Sprintf("s%d", i)); !errdefs.IsNotFound(err) {
				t.Errorf("replica %d: s%d after both deleted it: %v", r, i, err)
			}
		}
	}
	units, err := inner.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 0 {
		t.Errorf("%d units left after every sandbox was deleted", len(units))
	}
	t.Logf("%d lifecycle calls, none overlapping", drv.calls)
}

// TestStartupLeavesOthersUnits: a replica that starts beside another on a shared driver
// leaves units with no record alone (the other's warm sandboxes and creates in progress),
// where a replica alone deletes them.
func TestStartupLeavesOthersUnits(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica's warm sandbox: a running unit without a record.
	if err := drv.Create(ctx, sandbox.InstanceSpec{ID: "warm1"}); err != nil {
		t.Fatal(err)
	}
	if err := drv.Start(ctx, "warm1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drv.Delete(context.Background(), "warm1") })
	eng, err := Open(ctx, Config{DataDir: testenv.TempDir(t), Store: db, Driver: drv, Images: baseImage{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.WithoutCancel(ctx)) })
	units, err := drv.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 1 || units[0].ID != "warm1" {
		t.Fatalf("units after a replica's start-up = %v, want warm1 left alone", units)
	}
}
