package pginvalidate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/invalidate/pginvalidate"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

// recorder keeps the IDs a subscriber was called with.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) add(id string) { r.mu.Lock(); r.ids = append(r.ids, id); r.mu.Unlock() }

func (r *recorder) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, got := range r.ids {
		if got == id {
			return true
		}
	}
	return false
}

func start(t *testing.T, url string) *pginvalidate.Bus {
	t.Helper()
	b, err := pginvalidate.New(url, 20*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; b.Close() })
	waitFor(t, "the bus listens", b.Listening)
	return b
}

// TestBus: a change published on one replica reaches the other's subscribers of its kind
// only; a listener whose session is ended reconnects and tells its subscribers that anything
// may have changed.
func TestBus(t *testing.T) {
	url := pgtest.Start(t).NewSchema(t)
	a, b := start(t, url), start(t, url)
	var sandboxes, accounts recorder
	b.Subscribe(invalidate.Sandbox, sandboxes.add)
	b.Subscribe(invalidate.Accounts, accounts.add)
	a.Publish(invalidate.Sandbox, "sb-1")
	waitFor(t, "the other replica hears of sb-1", func() bool { return sandboxes.has("sb-1") })
	if accounts.has("sb-1") {
		t.Fatal("a sandbox change reached an accounts subscriber")
	}

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	// End both replicas' listener sessions (their last query is the LISTEN).
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query = 'LISTEN `+pginvalidate.Channel+`' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every subscriber hears invalidate.All after the reconnect", func() bool {
		return sandboxes.has(invalidate.All) && accounts.has(invalidate.All)
	})
	waitFor(t, "the bus listens again", func() bool { return a.Listening() && b.Listening() })
	a.Publish(invalidate.Sandbox, "sb-2")
	waitFor(t, "the other replica hears of sb-2 after reconnecting", func() bool { return sandboxes.has("sb-2") })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
