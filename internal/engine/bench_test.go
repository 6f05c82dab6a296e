package engine

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// BenchmarkCreateCold measures create to guest-ready with no pool, for each network mode
// (egress adds the pinned netns, the TUN device and the user-mode stack).
func BenchmarkCreateCold(b *testing.B) {
	eng, _ := newTestEngine(b)
	for _, mode := range []sandbox.NetworkMode{sandbox.NetworkEgress, sandbox.NetworkNone} {
		b.Run(string(mode), func(b *testing.B) { benchCreateCold(b, eng, mode) })
	}
}

func benchCreateCold(b *testing.B, eng *Engine, mode sandbox.NetworkMode) {
	ctx := context.Background()
	lat := newLatencies(b)
	defer lat.report()
	for b.Loop() {
		var sb *sandbox.Sandbox
		var err error
		lat.time(func() { sb, err = eng.Create(ctx, sandbox.Spec{Network: mode}, "") })
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = eng.Delete(ctx, sb.ID)
		b.StartTimer()
	}
}

// BenchmarkPoolClaimExec measures claiming a warm sandbox and running `true` in it.
func BenchmarkPoolClaimExec(b *testing.B) {
	eng, _ := newTestEngine(b, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 4})
	ctx := context.Background()
	lat := newLatencies(b)
	defer lat.report()
	for b.Loop() {
		b.StopTimer()
		waitPoolReadyB(b, eng, 1)
		b.StartTimer()
		var sb *sandbox.Sandbox
		var err error
		lat.time(func() {
			if sb, err = eng.Create(ctx, sandbox.Spec{}, ""); err == nil {
				_, err = eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}})
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = eng.Delete(ctx, sb.ID)
		b.StartTimer()
	}
}

// BenchmarkExecTrue measures one exec round trip in a running sandbox.
func BenchmarkExecTrue(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	sb := mustCreate(b, eng, sandbox.Spec{})
	lat := newLatencies(b)
	defer lat.report()
	for b.Loop() {
		var res *manager.ExecResult
		var err error
		lat.time(func() { res, err = eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}}) })
		if err != nil || res.ExitCode != 0 {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkFileWriteRead1MiB measures writing then reading back 1 MiB.
func BenchmarkFileWriteRead1MiB(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	sb := mustCreate(b, eng, sandbox.Spec{})
	data := bytes.Repeat([]byte("paddock!"), 1<<17)
	b.SetBytes(int64(2 * len(data)))
	for b.Loop() {
		if err := eng.WriteFile(ctx, sb.ID, "/tmp/bench", "", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		rc, err := eng.ReadFile(ctx, sb.ID, "/tmp/bench", "")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		if n != int64(len(data)) {
			b.Fatalf("read %d bytes", n)
		}
	}
}

// BenchmarkDelete measures deleting a running sandbox and a paused one (whose frozen init
// cannot die until the runtime thaws it).
func BenchmarkDelete(b *testing.B) {
	eng, _ := newTestEngine(b)
	ctx := context.Background()
	for _, paused := range []bool{false, true} {
		name := "running"
		if paused {
			name = "paused"
		}
		b.Run(name, func(b *testing.B) {
			lat := newLatencies(b)
			defer lat.report()
			for b.Loop() {
				b.StopTimer()
				sb, err := eng.Create(ctx, sandbox.Spec{}, "")
				if err == nil && paused {
					_, err = eng.Pause(ctx, sb.ID)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				lat.time(func() { err = eng.Delete(ctx, sb.ID) })
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOneShotRun measures `paddock run -- true` as a user runs it.
func BenchmarkOneShotRun(b *testing.B) {
	testenv.NeedRunc(b)
	bin := testenv.PaddockBinary(b)
	dir := testenv.TempDir(b)
	lat := newLatencies(b)
	defer lat.report()
	for b.Loop() {
		var out []byte
		var err error
		lat.time(func() { out, err = exec.Command(bin, "run", "--data-dir", dir, "--", "true").CombinedOutput() })
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

func waitPoolReadyB(b *testing.B, eng *Engine, n int) {
	b.Helper()
	for i := 0; i < 30000; i++ {
		if st := eng.PoolStats(); len(st) > 0 && st[0].Ready >= n {
			return
		}
		sleepMs(1)
	}
	b.Fatal("pool did not refill")
}

// latencies records one duration per iteration and reports p50 and p99 in milliseconds.
type latencies struct {
	b *testing.B
	d []time.Duration
}

func newLatencies(b *testing.B) *latencies { return &latencies{b: b} }

// time runs fn with the benchmark timer on and records how long it took.
func (l *latencies) time(fn func()) {
	start := time.Now()
	fn()
	l.d = append(l.d, time.Since(start))
}

func (l *latencies) report() {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	pct := func(p float64) float64 {
		return float64(l.d[min(len(l.d)-1, int(p*float64(len(l.d))))].Microseconds()) / 1000
	}
	l.b.ReportMetric(pct(0.50), "p50-ms")
	l.b.ReportMetric(pct(0.99), "p99-ms")
}
