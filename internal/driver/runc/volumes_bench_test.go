package runc_test

import (
	"context"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/sandbox"
)

// BenchmarkCreateVolume measures CreateVolume of the default size (a sparse copy of the golden
// image, attached and mounted) and, separately, DeleteVolume. The golden image is made before
// the timing starts. Reports p50 and p99 in milliseconds.
func BenchmarkCreateVolume(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	drivertest.Volume(b, e.d, 0) // formats the golden image
	var create, del []time.Duration
	for b.Loop() {
		id := drivertest.RandomID()
		b.Cleanup(func() { _ = e.d.DeleteVolume(context.Background(), id) })
		start := time.Now()
		if err := e.d.CreateVolume(ctx, sandbox.Volume{ID: id}); err != nil {
			b.Fatal(err)
		}
		create = append(create, time.Since(start))
		start = time.Now()
		if err := e.d.DeleteVolume(ctx, id); err != nil {
			b.Fatal(err)
		}
		del = append(del, time.Since(start))
	}
	report(b, "create", create)
	report(b, "delete", del)
}

// BenchmarkStartMounts measures Start → guest ready of a sandbox with three mounts (a volume's
// root read-only, a SubPath of it writable inside, a second volume) against one without,
// alternating in the same run; Create and Stop are not in the timing (Stop is reported apart).
func BenchmarkStartMounts(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	v1, v2 := drivertest.Volume(b, e.d, 64), drivertest.Volume(b, e.d, 64)
	three := []sandbox.Mount{{Volume: v1, Destination: "/ws", ReadOnly: true},
		{Volume: v1, SubPath: "out", Destination: "/ws/out"}, {Volume: v2, SubPath: "a/b", Destination: "/data"}}
	sides := []struct {
		name   string
		mounts []sandbox.Mount
	}{{"mounts0", nil}, {"mounts3", three}}
	var specs []sandbox.InstanceSpec
	for _, s := range sides {
		spec := drivertest.NewSpec(b, e.img)
		spec.Network, spec.Mounts = sandbox.NetworkNone, s.mounts
		b.Cleanup(func() { _ = e.d.Delete(context.Background(), spec.ID) })
		if err := e.d.Create(ctx, spec); err != nil {
			b.Fatal(err)
		}
		specs = append(specs, spec)
	}
	start := make([][]time.Duration, len(sides))
	stop := make([][]time.Duration, len(sides))
	for i := 0; b.Loop(); i++ {
		for k := range sides {
			idx := (i + k) % len(sides) // alternate which side goes first
			id := specs[idx].ID
			t0 := time.Now()
			if err := e.d.Start(ctx, id); err != nil {
				b.Fatal(err)
			}
			rctx, cancel := context.WithTimeout(ctx, readyTimeout)
			err := drivertest.WaitReady(rctx, e.d, id)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			start[idx] = append(start[idx], time.Since(t0))
			t0 = time.Now()
			if err := e.d.Stop(ctx, id, 0); err != nil {
				b.Fatal(err)
			}
			stop[idx] = append(stop[idx], time.Since(t0))
		}
	}
	for k, s := range sides {
		report(b, "start-"+s.name, start[k])
		report(b, "stop-"+s.name, stop[k])
	}
}
