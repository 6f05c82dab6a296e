package server

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
)

// reportLatencies reports p50 and p99 of ds in milliseconds.
func reportLatencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkSessionExecute runs `x = i; x * 2` in a warm session through the HTTP API.
func BenchmarkSessionExecute(b *testing.B) {
	s := newTestServer(b, func(c *config.Config) { c.PoolSize = 1 })
	if code, r := s.kb("POST", "/sessions/bench/execute", map[string]any{"code": "0"}); code != 200 {
		b.Fatalf("warm up: %d %v", code, r)
	}
	var ds []time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		_, r := s.kb("POST", "/sessions/bench/execute", map[string]any{"code": fmt.Sprintf("x = %d; x * 2", i)})
		ds = append(ds, time.Since(start))
		if r["return_value"] != fmt.Sprint(2*i) {
			b.Fatalf("got %v", r)
		}
	}
	reportLatencies(b, ds)
}

// BenchmarkNewSessionFirstResult measures a new session's first `1+1`: a warm sandbox with a
// prewarmed python interpreter claimed, a context created, the cell run.
func BenchmarkNewSessionFirstResult(b *testing.B) {
	s := newTestServer(b, func(c *config.Config) { c.PoolSize = 4 })
	var ds []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		waitPool(b, s, 1)
		i++
		b.StartTimer()
		start := time.Now()
		_, r := s.kb("POST", fmt.Sprintf("/sessions/new-%d/execute", i), map[string]any{"code": "1+1"})
		ds = append(ds, time.Since(start))
		if r["return_value"] != "2" {
			b.Fatalf("got %v", r)
		}
		b.StopTimer()
		s.kb("DELETE", fmt.Sprintf("/kernels/new-%d", i), nil)
		b.StartTimer()
	}
	reportLatencies(b, ds)
}

func waitPool(b *testing.B, s *testServer, n int) {
	for i := 0; i < 3000; i++ {
		if st := s.srv.eng.PoolStats(); len(st) > 0 && st[0].Ready >= n {
			time.Sleep(300 * time.Millisecond) // the spare interpreter starts right after the sandbox
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("pool did not refill")
}
