package pglock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/lock/pglock"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

// replicas returns two lockers on one schema, each with a pool of its own: two replicas.
func replicas(t *testing.T) (*pglock.Locker, *pglock.Locker) {
	t.Helper()
	url := pgtest.Start(t).NewSchema(t)
	var ls [2]*pglock.Locker
	for i := range ls {
		l, err := pglock.New(url, pglock.Options{Conns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		ls[i] = l
	}
	return ls[0], ls[1]
}

func TestReplicasExclude(t *testing.T) {
	a, b := replicas(t)
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "sandbox:one")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free on the other replica.
	unlockOther, err := b.Lock(ctx, "sandbox:two")
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()
	// The held key is not: b waits until a unlocks.
	var got atomic.Bool
	done := make(chan error)
	go func() {
		u, err := b.Lock(ctx, "sandbox:one")
		if err == nil {
			got.Store(true)
			u()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the other replica took a held key (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	if err := <-done; err != nil || !got.Load() {
		t.Fatalf("the other replica did not get the key once it was unlocked: %v", err)
	}
}

func TestWaitEndsWithCtx(t *testing.T) {
	a, b := replicas(t)
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "sandbox:one")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := b.Lock(wctx, "sandbox:one"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a key another replica holds, ctx ended = %v, want context.DeadlineExceeded", err)
	}
	// The cancelled wait left nothing held: once a unlocks, b takes the key at once.
	unlock()
	tctx, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	u, err := b.Lock(tctx, "sandbox:one")
	if err != nil {
		t.Fatalf("after a cancelled wait and an unlock: %v", err)
	}
	u()
}

// TestLostSession: when the holder's session ends, the key is free for the other replica;
// the holder's unlock then returns without harm.
func TestLostSession(t *testing.T) {
	url := pgtest.Start(t).NewSchema(t)
	a, err := pglock.New(url, pglock.Options{Conns: 2, Name: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	b, err := pglock.New(url, pglock.Options{Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'paddock-lock lost'`); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u, err := b.Lock(tctx, "k")
	if err != nil {
		t.Fatalf("the key of an ended session: %v", err)
	}
	u()
	unlock()
	// a's pool replaced the dead connection: it can lock again.
	u, err = a.Lock(tctx, "k")
	if err != nil {
		t.Fatalf("lock again after a lost session: %v", err)
	}
	u()
}

// BenchmarkLock measures one uncontended lock and unlock through the database.
func BenchmarkLock(b *testing.B) {
	url := pgtest.Start(b).NewSchema(b)
	l, err := pglock.New(url, pglock.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(l.Close)
	ctx := context.Background()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		u, err := l.Lock(ctx, "sandbox:bench")
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		u()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-acquire-ns")
	b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-acquire-ns")
}

// TestNestedClassesNeverStarve holds as many agent keys as a pool has connections and, in
// each hold, takes a sandbox key, as Trinity's agent operations do: with one pool for every
// key, each inner Lock waited for a connection that only an outer unlock would free.
func TestNestedClassesNeverStarve(t *testing.T) {
	const conns = 2
	l, err := pglock.New(pgtest.Start(t).NewSchema(t), pglock.Options{Conns: conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	outer := make([]func(), conns)
	for i := range outer {
		if outer[i], err = l.Lock(ctx, fmt.Sprintf("agent:%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, conns)
	for i := range conns {
		go func() {
			defer outer[i]()
			inner, err := l.Lock(ctx, fmt.Sprintf("sandbox:%d", i))
			if err == nil {
				inner()
			}
			errs <- err
		}()
	}
	for range conns {
		if err := <-errs; err != nil {
			t.Errorf("a sandbox lock inside an agent lock, with every agent-class connection held: %v", err)
		}
	}
}
