package pgleader_test

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/leader/pgleader"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

// replica is one elector running as a replica would, counting the terms it leads.
type replica struct {
	name    string
	e       *pgleader.Elector
	terms   atomic.Int32  // onElected calls so far
	ended   chan struct{} // closed when the first term's context ends
	stop    context.CancelFunc
	stopped chan struct{}
}

func start(t *testing.T, db, name string, key int64) *replica {
	t.Helper()
	return startWith(t, db, pgleader.Options{Key: key, Name: name, Retry: 50 * time.Millisecond, Check: time.Second})
}

func startWith(t *testing.T, db string, opts pgleader.Options) *replica {
	t.Helper()
	r := &replica{name: opts.Name, ended: make(chan struct{}), stopped: make(chan struct{}), e: pgleader.New(db, opts)}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		defer close(r.stopped)
		_ = r.e.Run(ctx, func(ctx context.Context) {
			first := r.terms.Add(1) == 1
			<-ctx.Done()
			if first {
				close(r.ended)
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-r.stopped })
	return r
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFailover runs two electors on one database: exactly one leads; when the server ends
// the leader's session (as a lost connection does), the leader's context is cancelled and
// the other replica leads within a bounded time; a replica that stops hands over too. (The
// two may overlap by up to about twice Check during a handover after a lost session: the
// old leader learns of the loss at its next ping.)
func TestFailover(t *testing.T) {
	pg := pgtest.Start(t)
	db := pg.NewSchema(t)
	key := rand.Int64() // the test's own lock: other tests may share the database
	a := start(t, db, "a-"+t.Name(), key)
	b := start(t, db, "b-"+t.Name(), key)
	one := func() bool { return a.e.IsLeader() != b.e.IsLeader() }
	waitFor(t, "one replica leads", 10*time.Second, one)
	lead, follow := a, b
	if b.e.IsLeader() {
		lead, follow = b, a
	}
	// The follower keeps campaigning and keeps losing.
	at := follow.e.Campaigns()
	waitFor(t, "the follower tries again", 10*time.Second, func() bool { return follow.e.Campaigns() >= at+3 })
	if follow.e.IsLeader() || follow.terms.Load() != 0 || !lead.e.IsLeader() {
		t.Fatalf("while %s leads, %s leads too or it stepped down", lead.name, follow.name)
	}

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, "paddock-leader "+lead.name).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the leader's session: %d sessions, %v", killed, err)
	}
	began := time.Now()
	select {
	case <-lead.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the old leader's context was not cancelled")
	}
	waitFor(t, "the follower takes over", 10*time.Second, func() bool { return follow.e.IsLeader() && follow.terms.Load() == 1 })
	t.Logf("handover after the leader's session ended: %s", time.Since(began).Round(time.Millisecond))
	if lead.e.IsLeader() {
		t.Errorf("%s still says it leads", lead.name)
	}

	// A leader that stops (a replica shut down) frees the lock for the other.
	follow.stop()
	<-follow.stopped
	waitFor(t, "the first replica leads again", 10*time.Second, func() bool { return lead.e.IsLeader() && lead.terms.Load() == 2 })
}
