package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// RunWarm is the conformance suite of manager.WarmStore; newStore returns an empty one.
func RunWarm(t *testing.T, newStore func(t *testing.T) manager.WarmStore) {
	t.Run("RoundTripAndOrder", func(t *testing.T) { testWarmRoundTrip(t, newStore(t)) })
	t.Run("ClaimAndDelete", func(t *testing.T) { testWarmClaimDelete(t, newStore(t)) })
	t.Run("ConcurrentClaims", func(t *testing.T) { testWarmConcurrentClaims(t, newStore(t)) })
}

// warmUnit returns a warm unit of pool with every field set, made at made.
func warmUnit(id, pool string, made time.Time) *manager.WarmUnit {
	inst := record(id, "w-"+id, made).Instance
	return &manager.WarmUnit{ID: id, Pool: pool, Instance: inst, GuestToken: "tok-" + id, MadeAt: made}
}

func putWarm(t *testing.T, s manager.WarmStore, us ...*manager.WarmUnit) {
	t.Helper()
	for _, u := range us {
		if err := s.PutWarm(context.Background(), u); err != nil {
			t.Fatalf("put %s: %v", u.ID, err)
		}
	}
}

func testWarmRoundTrip(t *testing.T, s manager.WarmStore) {
	ctx := context.Background()
	b2, a1, b1 := warmUnit("w3", "kb", epoch.Add(2*time.Second)), warmUnit("w2", "ka", epoch), warmUnit("w1", "kb", epoch)
	putWarm(t, s, b2, a1, b1)
	if err := s.PutWarm(ctx, warmUnit("w1", "kc", epoch)); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("put of a taken ID: %v, want already exists", err)
	}
	if err := s.PutWarm(ctx, &manager.WarmUnit{ID: "w9"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("put without a pool: %v, want invalid argument", err)
	}
	got, err := s.ListWarm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []manager.WarmUnit{*a1, *b1, *b2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("list = %+v\nwant %+v", got, want)
	}
}

func testWarmClaimDelete(t *testing.T, s manager.WarmStore) {
	ctx := context.Background()
	putWarm(t, s, warmUnit("w2", "k", epoch.Add(time.Second)), warmUnit("w1", "k", epoch), warmUnit("w3", "k", epoch.Add(2*time.Second)))
	u, err := s.ClaimWarm(ctx, "k")
	if err != nil || u.ID != "w1" || !reflect.DeepEqual(u, warmUnit("w1", "k", epoch)) {
		t.Fatalf("claim = %+v, %v; want w1, the oldest, whole", u, err)
	}
	if _, err := s.ClaimWarm(ctx, "other"); !errdefs.IsNotFound(err) {
		t.Errorf("claim of an empty pool: %v, want not found", err)
	}
	if ok, err := s.DeleteWarm(ctx, "w3"); !ok || err != nil {
		t.Errorf("delete w3 = %v, %v; want true", ok, err)
	}
	if ok, err := s.DeleteWarm(ctx, "w3"); ok || err != nil {
		t.Errorf("delete w3 again = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.DeleteWarm(ctx, "w1"); ok || err != nil {
		t.Errorf("delete of the claimed w1 = %v, %v; want false, nil", ok, err)
	}
	if u, err := s.ClaimWarm(ctx, "k"); err != nil || u.ID != "w2" {
		t.Fatalf("second claim = %+v, %v; want w2", u, err)
	}
	if _, err := s.ClaimWarm(ctx, "k"); !errdefs.IsNotFound(err) {
		t.Errorf("claim of an emptied pool: %v, want not found", err)
	}
	if got, err := s.ListWarm(ctx); err != nil || len(got) != 0 {
		t.Errorf("list after everything went = %+v, %v", got, err)
	}
}

// testWarmConcurrentClaims: claimers racing on one pool each get a different unit, and
// exactly as many claims succeed as there were units.
func testWarmConcurrentClaims(t *testing.T, s manager.WarmStore) {
	const units, claimers = 10, 16
	for i := range units {
		putWarm(t, s, warmUnit(string(rune('a'+i)), "k", epoch.Add(time.Duration(i)*time.Millisecond)))
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.ClaimWarm(context.Background(), "k")
			if errdefs.IsNotFound(err) {
				return
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got[u.ID]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(got) != units {
		t.Errorf("%d distinct units claimed, want %d: %v", len(got), units, got)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("unit %s claimed %d times", id, n)
		}
	}
}
