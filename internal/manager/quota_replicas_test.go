package manager_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lock/pglock"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// stuckDriver's creates hang until the test ends, then fail: the create of a replica that
// died with its reservation booked and never settled it.
type stuckDriver struct {
	sandbox.Driver
	entered chan struct{} // receives once per create that hangs
	end     chan struct{} // closed when the test ends
}

func (d *stuckDriver) Create(context.Context, sandbox.InstanceSpec) error {
	d.entered <- struct{}{}
	<-d.end
	return errors.New("replica died")
}

// deadLedger is the ledger as a replica that died sees it: its renewals never arrive.
type deadLedger struct{ manager.QuotaLedger }

func (deadLedger) Extend(context.Context, string, time.Time) error { return nil }

// TestQuotaDeadReplicaExpires: a replica that dies mid-create leaves its reservation in the
// shared ledger, no longer renewed. It counts on every replica (the other refuses a create
// over the quota) until the reservation TTL passes; then it no longer holds quota.
func TestQuotaDeadReplicaExpires(t *testing.T) {
	url := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The managers' clock stands still but for the test's moves.
	var skew atomic.Int64
	start := time.Now()
	clock := func() time.Time { return start.Add(time.Duration(skew.Load())) }
	const ttl = 2 * time.Minute
	stuck := &stuckDriver{Driver: drv, entered: make(chan struct{}), end: make(chan struct{})}
	replica := func(d sandbox.Driver, quotas manager.QuotaLedger) *manager.Manager {
		l, err := pglock.New(url, pglock.Options{Conns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		m, err := manager.New(ctx, manager.Config{Driver: d, Store: db, Images: images{}, Locker: l, Quotas: quotas,
			Quota: account.Quota{Sandboxes: 1}, Now: clock, ReservationTTL: ttl, ReservationRenew: 10 * time.Millisecond, SharedDriver: true, ReconcileInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close(ctx) })
		return m
	}
	live, dead := replica(drv, db.Quotas()), replica(stuck, deadLedger{db.Quotas()})
	alice := account.WithIdentity(ctx, account.Identity{UserID: "usr_alice", Email: "alice@x", Role: account.RoleUser})

	done := make(chan error, 1)
	go func() {
		_, err := dead.Create(alice, sandbox.Spec{Name: "lost"}, "")
		done <- err
	}()
	<-stuck.entered
	t.Cleanup(func() {
		close(stuck.end)
		if err := <-done; err == nil {
			t.Error("the dead replica's create succeeded")
		}
	})

	if u, err := live.UsageOf(ctx, "usr_alice"); err != nil || u.Sandboxes != 1 {
		t.Fatalf("usage on the other replica: %+v, %v; want the create under way counted", u, err)
	}
	_, err = live.Create(alice, sandbox.Spec{Name: "early"}, "")
	if !errors.Is(err, errdefs.ErrResourceExhausted) || err.Error() != "quota exceeded: at most 1 running sandboxes, 1 in use" {
		t.Fatalf("create while the other replica's create is under way: %v, want the sandbox quota", err)
	}
	skew.Store(int64(ttl - time.Second))
	if _, err := live.Create(alice, sandbox.Spec{Name: "still"}, ""); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Fatalf("create a second before the reservation expires: %v, want refused", err)
	}
	skew.Store(int64(ttl))
	if _, err := live.Create(alice, sandbox.Spec{Name: "after"}, ""); err != nil {
		t.Fatalf("create once the dead replica's reservation expired: %v", err)
	}
}

// TestQuotaLongCreateRenews: a create that runs past the reservation TTL renews its
// reservation meanwhile, so it keeps counting and no other create passes the quota.
func TestQuotaLongCreateRenews(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64
	start := time.Now()
	clock := func() time.Time { return start.Add(time.Duration(skew.Load())) }
	const ttl = time.Minute
	book := &manager.QuotaBook{}
	stuck := &stuckDriver{Driver: drv, entered: make(chan struct{}), end: make(chan struct{})}
	slow, err := manager.New(context.Background(), manager.Config{Driver: stuck, Store: memory.New(), Images: images{},
		Quotas: book, Quota: account.Quota{Sandboxes: 1}, Now: clock, ReservationTTL: ttl, ReservationRenew: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slow.Close(context.Background()) })
	alice := account.WithIdentity(context.Background(), account.Identity{UserID: "usr_alice", Email: "alice@x", Role: account.RoleUser})
	done := make(chan error, 1)
	go func() {
		_, err := slow.Create(alice, sandbox.Spec{Name: "slow"}, "")
		done <- err
	}()
	<-stuck.entered
	t.Cleanup(func() {
		close(stuck.end)
		<-done
	})

	// Most of a TTL later, a renewal moves the expiry a TTL past the clock.
	skew.Store(int64(ttl - time.Second))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		rs, err := book.Pending(context.Background(), "usr_alice", clock())
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 1 && !rs[0].Expires.Before(clock().Add(ttl)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending %+v: not renewed within 10 s", rs)
		}
	}
	skew.Store(int64(ttl + 30*time.Second))
	_, err = slow.Create(alice, sandbox.Spec{Name: "other"}, "")
	if !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Fatalf("create while a create older than the TTL runs: %v, want the sandbox quota", err)
	}
}
