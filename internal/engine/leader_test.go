package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/leader/pgleader"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// TestFollowerDoesNotReap runs a replica's engine on Postgres beside another replica that
// leads: while it follows, its TTL reaper leaves an expired sandbox alone, however many
// times it has campaigned; once the leader stops, it takes over and reaps.
func TestFollowerDoesNotReap(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	key := rand.Int64() // the test's own lock: other tests may share the database
	// Check stays a second: a leader whose ping a loaded machine delays past Check steps
	// down, and the test would see a real failover.
	opts := func(name string) pgleader.Options {
		return pgleader.Options{Key: key, Name: name + " " + t.Name(), Retry: 50 * time.Millisecond, Check: time.Second}
	}

	other := pgleader.New(db, opts("other"))
	otherCtx, stopOther := context.WithCancel(ctx)
	otherDone := make(chan struct{})
	go func() { defer close(otherDone); _ = other.Run(otherCtx, func(ctx context.Context) { <-ctx.Done() }) }()
	t.Cleanup(func() { stopOther(); <-otherDone })
	waitUntil(t, "the other replica leads", other.IsLeader)

	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	el := pgleader.New(db, opts("this"))
	eng, err := Open(ctx, Config{DataDir: testenv.TempDir(t), Store: db, Driver: drv, Images: baseImage{},
		ReapInterval: 5 * time.Millisecond, Leader: el})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.WithoutCancel(ctx)) })
	if _, err := eng.Create(ctx, sandbox.Spec{Name: "expired"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SetExpiry(ctx, "expired", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Three lost campaigns are 150 ms: thirty reaper intervals.
	at := el.Campaigns()
	waitUntil(t, "this replica campaigns three more times", func() bool { return el.Campaigns() >= at+3 })
	if el.IsLeader() {
		t.Fatal("this replica leads beside the other")
	}
	if _, err := eng.Get(ctx, "expired"); err != nil {
		t.Fatalf("a follower reaped (or lost) the expired sandbox: %v", err)
	}

	stopOther()
	waitUntil(t, "this replica takes over and reaps", func() bool {
		_, err := eng.Get(ctx, "expired")
		return el.IsLeader() && errdefs.IsNotFound(err)
	})
}

// waitUntil polls cond until it holds, failing t after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
