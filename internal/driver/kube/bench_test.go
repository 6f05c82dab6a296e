package kube_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

func benchDriver(b *testing.B) *kube.Driver {
	b.Helper()
	c := kubetest.Require(b)
	d, err := kube.New(kube.Config{Client: c.Client, Namespace: c.Namespace(b), GuestImage: c.GuestImage,
		BaseImage: c.BaseImage, RequestPercent: 10, ReadyTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkKubeCreateStartReady measures Create to the guest's first 204 on GET /health:
// a Secret, a NetworkPolicy, a pod scheduled, its init container copying the guest, the
// sandbox's container started. Deleting each sandbox is not timed.
func BenchmarkKubeCreateStartReady(b *testing.B) {
	d := benchDriver(b)
	ctx := context.Background()
	for b.Loop() {
		spec := drivertest.NewSpec(b, sandbox.Image{Ref: "base"})
		if err := d.Create(ctx, spec); err != nil {
			b.Fatal(err)
		}
		if err := d.Start(ctx, spec.ID); err != nil {
			b.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := drivertest.WaitReady(rctx, d, spec.ID)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := d.Delete(ctx, spec.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkKubeExec measures one `true` run through the guest of a running pod, on a kept
// connection (as the manager's guest client keeps them).
func BenchmarkKubeExec(b *testing.B) {
	d := benchDriver(b)
	ctx := context.Background()
	spec := drivertest.NewSpec(b, sandbox.Image{Ref: "base"})
	b.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		b.Fatal(err)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		b.Fatal(err)
	}
	gc := guestclient.New(func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, spec.ID) }, "")
	defer gc.Close()
	for b.Loop() {
		p, err := gc.Start(ctx, guestclient.Command{Args: []string{"true"}})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, end, err := p.Next()
			if err != nil {
				b.Fatal(err)
			}
			if end != nil {
				break
			}
		}
	}
}
