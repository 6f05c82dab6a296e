// Package quotatest is the conformance suite every manager.QuotaLedger passes: the in-memory
// book's tests and the Postgres store's call Run with a constructor.
package quotatest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// Run runs every case against a fresh, empty ledger from newLedger, which arranges for it
// to be closed (t.Cleanup).
func Run(t *testing.T, newLedger func(t *testing.T) manager.QuotaLedger) {
	cases := []struct {
		name string
		fn   func(*testing.T, manager.QuotaLedger)
	}{
		{"RoundTrip", testRoundTrip},
		{"PendingSums", testPendingSums},
		{"SettleMade", testSettleMade},
		{"SettleGivenUp", testSettleGivenUp},
		{"SettleStart", testSettleStart},
		{"SettleUnknown", testSettleUnknown},
		{"DuplicateID", testDuplicateID},
		{"Expiry", testExpiry},
		{"Extend", testExtend},
		{"CreatesSince", testCreatesSince},
		{"Prune", testPrune},
		{"Concurrent", testConcurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newLedger(t)) })
	}
}

// epoch is the base of every time in the suite, with a microsecond part (the precision
// every ledger must keep).
var epoch = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func res(id, user string, mem int64, vcpus float64, create bool, at time.Time) manager.Reservation {
	return manager.Reservation{ID: id, UserID: user, Sandbox: "sb-" + id, MemoryMB: mem, VCPUs: vcpus, Create: create,
		At: at, Expires: at.Add(10 * time.Minute)}
}

func reserve(t *testing.T, l manager.QuotaLedger, rs ...manager.Reservation) {
	t.Helper()
	for _, r := range rs {
		if err := l.Reserve(context.Background(), r); err != nil {
			t.Fatalf("reserve %s: %v", r.ID, err)
		}
	}
}

func settle(t *testing.T, l manager.QuotaLedger, id string, made bool) {
	t.Helper()
	if err := l.Settle(context.Background(), id, made); err != nil {
		t.Fatalf("settle %s: %v", id, err)
	}
}

func wantPending(t *testing.T, l manager.QuotaLedger, user string, now time.Time, want manager.Usage) {
	t.Helper()
	rs, err := l.Pending(context.Background(), user, now)
	if err != nil {
		t.Fatal(err)
	}
	if rs == nil {
		t.Errorf("pending of %s: nil, want a list", user)
	}
	var got manager.Usage
	for _, r := range rs {
		got.Sandboxes++
		got.MemoryMB += r.MemoryMB
		got.VCPUs += r.VCPUs
	}
	if got != want {
		t.Errorf("pending of %s at %v sums to %+v, want %+v", user, now.Sub(epoch), got, want)
	}
}

func wantCreates(t *testing.T, l manager.QuotaLedger, user string, since time.Time, want int) {
	t.Helper()
	got, err := l.CreatesSince(context.Background(), user, since)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("creates of %s since %v = %d, want %d", user, since.Sub(epoch), got, want)
	}
}

func testRoundTrip(t *testing.T, l manager.QuotaLedger) {
	want := []manager.Reservation{res("r2", "alice", 256, 0.5, true, epoch), res("r1", "alice", 512, 1.25, false, epoch),
		res("r0", "alice", 64, 0.25, true, epoch.Add(time.Microsecond))}
	want[1].Expires = epoch.Add(1500 * time.Microsecond)
	reserve(t, l, want[2], want[0], want[1])
	got, err := l.Pending(context.Background(), "alice", epoch)
	if err != nil {
		t.Fatal(err)
	}
	want[0], want[1] = want[1], want[0] // by time, then ID
	if len(got) != len(want) {
		t.Fatalf("pending = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.UserID != w.UserID || g.Sandbox != w.Sandbox || g.MemoryMB != w.MemoryMB || g.VCPUs != w.VCPUs ||
			g.Create != w.Create || !g.At.Equal(w.At) || !g.Expires.Equal(w.Expires) {
			t.Errorf("pending[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func testPendingSums(t *testing.T, l manager.QuotaLedger) {
	wantPending(t, l, "alice", epoch, manager.Usage{})
	reserve(t, l, res("r1", "alice", 256, 0.5, true, epoch), res("r2", "alice", 512, 1.25, false, epoch.Add(time.Second)),
		res("r3", "bob", 1024, 2, true, epoch))
	wantPending(t, l, "alice", epoch.Add(2*time.Second), manager.Usage{Sandboxes: 2, MemoryMB: 768, VCPUs: 1.75})
	wantPending(t, l, "bob", epoch.Add(2*time.Second), manager.Usage{Sandboxes: 1, MemoryMB: 1024, VCPUs: 2})
	wantPending(t, l, "carol", epoch.Add(2*time.Second), manager.Usage{})
}

func testSettleMade(t *testing.T, l manager.QuotaLedger) {
	reserve(t, l, res("r1", "alice", 256, 0.5, true, epoch), res("r2", "alice", 256, 0.5, true, epoch))
	settle(t, l, "r1", true)
	// The sandbox record counts now: no longer pending, but still a creation.
	wantPending(t, l, "alice", epoch, manager.Usage{Sandboxes: 1, MemoryMB: 256, VCPUs: 0.5})
	wantCreates(t, l, "alice", epoch, 2)
	settle(t, l, "r1", true) // repeated
	wantCreates(t, l, "alice", epoch, 2)
}

func testSettleGivenUp(t *testing.T, l manager.QuotaLedger) {
	reserve(t, l, res("r1", "alice", 256, 0.5, true, epoch))
	settle(t, l, "r1", false)
	wantPending(t, l, "alice", epoch, manager.Usage{})
	wantCreates(t, l, "alice", epoch.Add(-time.Minute), 0)
}

func testSettleStart(t *testing.T, l manager.QuotaLedger) {
	// A start is not a creation: settled made, it is simply gone.
	reserve(t, l, res("s1", "alice", 256, 0.5, false, epoch))
	wantCreates(t, l, "alice", epoch.Add(-time.Minute), 0)
	settle(t, l, "s1", true)
	wantPending(t, l, "alice", epoch, manager.Usage{})
	wantCreates(t, l, "alice", epoch.Add(-time.Minute), 0)
}

func testSettleUnknown(t *testing.T, l manager.QuotaLedger) {
	settle(t, l, "nope", true)
	settle(t, l, "nope", false)
}

func testDuplicateID(t *testing.T, l manager.QuotaLedger) {
	reserve(t, l, res("r1", "alice", 256, 0.5, true, epoch))
	err := l.Reserve(context.Background(), res("r1", "bob", 1, 1, true, epoch))
	if !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("second reserve of r1: %v, want already exists", err)
	}
	wantPending(t, l, "bob", epoch, manager.Usage{})
}

// testExpiry: a reservation never settled (its replica died) stops counting as pending at
// its expiry; its creation still counts a minute from when it was made.
func testExpiry(t *testing.T, l manager.QuotaLedger) {
	r := res("r1", "alice", 256, 0.5, true, epoch)
	r.Expires = epoch.Add(30 * time.Second)
	reserve(t, l, r)
	wantPending(t, l, "alice", epoch.Add(29*time.Second), manager.Usage{Sandboxes: 1, MemoryMB: 256, VCPUs: 0.5})
	wantPending(t, l, "alice", epoch.Add(30*time.Second), manager.Usage{})
	wantCreates(t, l, "alice", epoch.Add(30*time.Second-time.Minute), 1)
	settle(t, l, "r1", true) // late: the record counts from now on, the reservation did not
	wantPending(t, l, "alice", epoch.Add(31*time.Second), manager.Usage{})
}

// testExtend: a create under way moves its reservation's expiry; a settled one stays settled.
func testExtend(t *testing.T, l manager.QuotaLedger) {
	r := res("r1", "alice", 256, 0.5, true, epoch)
	r.Expires = epoch.Add(30 * time.Second)
	reserve(t, l, r, res("r2", "alice", 64, 0.25, true, epoch))
	settle(t, l, "r2", true)
	for _, id := range []string{"r1", "r2", "nope"} {
		if err := l.Extend(context.Background(), id, epoch.Add(90*time.Second)); err != nil {
			t.Fatalf("extend %s: %v", id, err)
		}
	}
	wantPending(t, l, "alice", epoch.Add(89*time.Second), manager.Usage{Sandboxes: 1, MemoryMB: 256, VCPUs: 0.5})
	wantPending(t, l, "alice", epoch.Add(90*time.Second), manager.Usage{})
	wantCreates(t, l, "alice", epoch, 2)
}

func testCreatesSince(t *testing.T, l manager.QuotaLedger) {
	for i := range 4 {
		reserve(t, l, res(fmt.Sprintf("r%d", i), "alice", 1, 0, true, epoch.Add(time.Duration(i)*10*time.Second)))
	}
	reserve(t, l, res("s", "alice", 1, 0, false, epoch))
	settle(t, l, "r0", true)
	wantCreates(t, l, "alice", epoch, 4)
	wantCreates(t, l, "alice", epoch.Add(time.Microsecond), 3)
	wantCreates(t, l, "alice", epoch.Add(20*time.Second), 2)
	wantCreates(t, l, "alice", epoch.Add(time.Minute), 0)
	wantCreates(t, l, "bob", epoch, 0)
}

// testPrune: what no longer counts may go as the ledger is used, and what still counts stays.
func testPrune(t *testing.T, l manager.QuotaLedger) {
	long := res("long", "alice", 64, 0.25, true, epoch) // a slow create, still under way
	dead := res("dead", "alice", 64, 0.25, true, epoch)
	dead.Expires = epoch.Add(30 * time.Second)
	reserve(t, l, long, dead, res("made", "alice", 64, 0.25, true, epoch))
	settle(t, l, "made", true)
	later := epoch.Add(5 * time.Minute)
	reserve(t, l, res("new", "alice", 64, 0.25, true, later))
	wantPending(t, l, "alice", later, manager.Usage{Sandboxes: 2, MemoryMB: 128, VCPUs: 0.5})
	wantCreates(t, l, "alice", later.Add(-time.Minute), 1)
}

// testConcurrent: reserves and settles of many goroutines, for one user and several, add up.
func testConcurrent(t *testing.T, l manager.QuotaLedger) {
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			id := fmt.Sprintf("r%d", i)
			if err := l.Reserve(ctx, res(id, "alice", 10, 0.5, true, epoch)); err != nil {
				t.Error(err)
				return
			}
			if err := l.Reserve(ctx, res("b"+id, fmt.Sprintf("user%d", i%3), 10, 0.5, true, epoch)); err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := l.Settle(ctx, id, i%4 == 0); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	wantPending(t, l, "alice", epoch, manager.Usage{Sandboxes: n / 2, MemoryMB: 10 * n / 2, VCPUs: 0.5 * n / 2})
	wantCreates(t, l, "alice", epoch, n/2+n/4)
	wantCreates(t, l, "user0", epoch, 6)
}
