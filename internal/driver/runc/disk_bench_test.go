package runc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/drivertest"
)

// BenchmarkDiskCreateStartReady measures Create → Start → guest ready, alternating sandboxes
// with a 2 GiB disk (moderate's default) and sandboxes without a disk limit, in the same run.
// Each iteration makes one of each; Delete is timed separately. Reports p50 and p99 per side
// in milliseconds.
func BenchmarkDiskCreateStartReady(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	sides := []struct {
		name   string
		diskMB int64
	}{{"nodisk", 0}, {"disk", 2048}}
	create := make([][]time.Duration, len(sides))
	del := make([][]time.Duration, len(sides))
	for i := 0; b.Loop(); i++ {
		for k := range sides {
			s := sides[(i+k)%len(sides)] // alternate which side goes first
			idx := (i + k) % len(sides)
			spec := drivertest.NewSpec(b, e.img)
			spec.Resources.DiskMB = s.diskMB
			b.Cleanup(func() { _ = e.d.Delete(context.Background(), spec.ID) })
			start := time.Now()
			if err := e.d.Create(ctx, spec); err != nil {
				b.Fatal(err)
			}
			if err := e.d.Start(ctx, spec.ID); err != nil {
				b.Fatal(err)
			}
			rctx, cancel := context.WithTimeout(ctx, readyTimeout)
			err := drivertest.WaitReady(rctx, e.d, spec.ID)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			create[idx] = append(create[idx], time.Since(start))
			start = time.Now()
			if err := e.d.Delete(ctx, spec.ID); err != nil {
				b.Fatal(err)
			}
			del[idx] = append(del[idx], time.Since(start))
		}
	}
	for k, s := range sides {
		report(b, "create-"+s.name, create[k])
		report(b, "delete-"+s.name, del[k])
	}
}

// report adds p50 and p99 of ds, in milliseconds, as metrics named after what.
func report(b *testing.B, what string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), what+"-p50-ms")
	b.ReportMetric(pct(0.99), what+"-p99-ms")
}
