package lock_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/lock"
)

func TestLocal(t *testing.T) {
	var l lock.Local
	ctx := context.Background()
	unlock, err := l.Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free.
	unlockB, err := l.Lock(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// The held key is not: a wait ends with its ctx.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Lock(cctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock of a held key with a cancelled ctx = %v, want context.Canceled", err)
	}
	got := make(chan struct{})
	go func() {
		u, err := l.Lock(ctx, "a")
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second holder got the held key")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	unlock() // a second call is a no-op
	<-got
	if n := l.Len(); n != 0 {
		t.Fatalf("%d keys kept after every hold ended, want 0", n)
	}
}

// TestLocalExcludes counts holders of one key from many goroutines.
func TestLocalExcludes(t *testing.T) {
	var l lock.Local
	var in, max int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			unlock, err := l.Lock(context.Background(), "k")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			in++
			if in > max {
				max = in
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			in--
			mu.Unlock()
			unlock()
		})
	}
	wg.Wait()
	if max != 1 {
		t.Fatalf("%d holders at once, want 1", max)
	}
}

// BenchmarkLocal measures one uncontended lock and unlock in the process.
func BenchmarkLocal(b *testing.B) {
	var l lock.Local
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
