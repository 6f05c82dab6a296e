package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

// testQuotaPrune: a reserve deletes its user's rows that no longer count (settled or
// expired, and over a minute old), and keeps the rest, so the table does not grow.
func testQuotaPrune(t *testing.T, s *postgres.Store) {
	ctx, l := context.Background(), s.Quotas()
	t0 := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	r := func(id, user string, at time.Time, ttl time.Duration) manager.Reservation {
		return manager.Reservation{ID: id, UserID: user, MemoryMB: 1, Create: true, At: at, Expires: at.Add(ttl)}
	}
	for _, res := range []manager.Reservation{
		r("made", "alice", t0, time.Hour), r("dead", "alice", t0, time.Second), r("slow", "alice", t0, time.Hour),
		r("recent", "alice", t0.Add(30*time.Second), time.Second), r("bobs", "bob", t0, time.Second),
	} {
		if err := l.Reserve(ctx, res); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Settle(ctx, "made", true); err != nil {
		t.Fatal(err)
	}
	if err := l.Reserve(ctx, r("next", "alice", t0.Add(time.Minute), time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := postgres.QuotaRows(t, s), []string{"bobs", "next", "recent", "slow"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows after a reserve a minute later = %v, want %v", got, want)
	}
}

// BenchmarkQuotaLedger measures what the ledger adds to one create: the check's reads
// (Pending, CreatesSince), Reserve and Settle, on the in-memory book and on Postgres (the
// throwaway server, fsync off, on loopback), one user's creates one at a time as the quota
// lock makes them.
func BenchmarkQuotaLedger(b *testing.B) {
	ctx := context.Background()
	ledgers := []struct {
		name string
		open func(b *testing.B) manager.QuotaLedger
	}{
		{"memory", func(*testing.B) manager.QuotaLedger { return &manager.QuotaBook{} }},
		{"postgres", func(b *testing.B) manager.QuotaLedger {
			s, err := postgres.Open(ctx, pgtest.Start(b).NewSchema(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s.Quotas()
		}},
	}
	for _, lg := range ledgers {
		b.Run(lg.name, func(b *testing.B) {
			l := lg.open(b)
			for i := 0; b.Loop(); i++ {
				now := time.Now()
				if _, err := l.Pending(ctx, "alice", now); err != nil {
					b.Fatal(err)
				}
				if _, err := l.CreatesSince(ctx, "alice", now.Add(-time.Minute)); err != nil {
					b.Fatal(err)
				}
				id := fmt.Sprintf("r%d", i)
				if err := l.Reserve(ctx, manager.Reservation{ID: id, UserID: "alice", Sandbox: id, MemoryMB: 512,
					VCPUs: 1, Create: true, At: now, Expires: now.Add(manager.DefaultReservationTTL)}); err != nil {
					b.Fatal(err)
				}
				if err := l.Settle(ctx, id, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
