package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/store/postgres"
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
