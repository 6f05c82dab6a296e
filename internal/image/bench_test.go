package image_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/image"
	rt "github.com/paddock/paddock/internal/image/registrytest"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// benchImage pushes busybox plus a layer of sizeMB incompressible bytes and returns the
// reference and the compressed bytes a pull moves.
func benchImage(b *testing.B, reg *rt.Registry, repo string, sizeMB int) (string, int64) {
	b.Helper()
	data := make([]byte, sizeMB<<20)
	_, _ = rand.Read(data)
	layers := []v1.Layer{rt.BusyboxLayer(b), rt.Layer(b, rt.Entry{Name: "data/blob", Body: string(data)})}
	var total int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return reg.Push(b, repo, rt.Image(b, layers...)), total
}

// BenchmarkPullUnpack measures pull + unpack throughput from a registry on loopback into a
// fresh store each time (MB/s over the compressed bytes moved).
func BenchmarkPullUnpack(b *testing.B) {
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	reg := rt.Start(b, rt.Options{})
	ref, size := benchImage(b, reg, "bench/pull:1", 32)
	b.SetBytes(size)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		r, err := image.NewResolver(b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := r.Resolve(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}

func openEngine(b *testing.B) *engine.Engine {
	b.Helper()
	testenv.NeedRunc(b)
	eng, err := engine.Open(context.Background(), engine.Config{DataDir: testenv.TempDir(b),
		GuestBinary: testenv.PaddockBinary(b), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx := context.Background()
		sbs, _ := eng.List(ctx, sandbox.ListFilter{})
		for _, sb := range sbs {
			_ = eng.Delete(ctx, sb.ID)
		}
		_ = eng.Close(ctx)
	})
	return eng
}

// createDelete times one dedicated (no pool) create, then deletes the sandbox untimed.
func createDelete(b *testing.B, eng *engine.Engine, ref string) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	sb, err := eng.CreateDedicated(ctx, sandbox.Spec{Image: ref}, "")
	d := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Delete(ctx, sb.ID); err != nil {
		b.Fatal(err)
	}
	return d
}

func medianMS(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}

// BenchmarkFirstVsLaterSandbox compares the first sandbox of a freshly pulled image (which
// pulls it) with later ones, and proves from the registry's own log that later ones do not
// touch the registry (reported as later-registry-requests, which must be 0).
func BenchmarkFirstVsLaterSandbox(b *testing.B) {
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	reg := rt.Start(b, rt.Options{})
	ref, _ := benchImage(b, reg, "bench/first:1", 8)
	var first, later []time.Duration
	for b.Loop() {
		b.StopTimer()
		eng := openEngine(b) // a fresh data dir: the first create pulls
		b.StartTimer()
		first = append(first, createDelete(b, eng, ref))
		reg.Settle(b)
		before := len(reg.Requests())
		for range 3 {
			later = append(later, createDelete(b, eng, ref))
		}
		reg.Settle(b)
		if extra := len(reg.Requests()) - before - 1; extra != 0 { // -1: the Settle marker
			b.Fatalf("later sandboxes made %d registry requests: %+v", extra, reg.Requests()[before:])
		}
	}
	b.ReportMetric(medianMS(first), "first-ms")
	b.ReportMetric(medianMS(later), "later-ms")
	b.ReportMetric(0, "later-registry-requests")
}

// BenchmarkColdCreateOCIvsBase creates dedicated sandboxes from a pulled OCI image and from
// base, alternating in one run, and reports both medians and their ratio.
func BenchmarkColdCreateOCIvsBase(b *testing.B) {
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	reg := rt.Start(b, rt.Options{})
	ref, _ := benchImage(b, reg, "bench/cold:1", 1)
	eng := openEngine(b)
	createDelete(b, eng, ref) // pull it
	createDelete(b, eng, "")  // warm the page cache for base as much
	var oci, base []time.Duration
	for b.Loop() {
		oci = append(oci, createDelete(b, eng, ref))
		base = append(base, createDelete(b, eng, ""))
	}
	o, bs := medianMS(oci), medianMS(base)
	b.ReportMetric(o, "oci-ms")
	b.ReportMetric(bs, "base-ms")
	b.ReportMetric(math.Round(o/bs*100)/100, "oci/base")
}
