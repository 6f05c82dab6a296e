package runc_test

import (
	"context"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
)

// BenchmarkCreateStartReady measures the time from Create to the guest's first 204 on
// GET /health. Deleting each sandbox is not timed.
func BenchmarkCreateStartReady(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for b.Loop() {
		spec := drivertest.NewSpec(b, e.img)
		b.Cleanup(func() { _ = e.d.Delete(context.Background(), spec.ID) })
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
		b.StopTimer()
		if err := e.d.Delete(ctx, spec.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
