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
)

// TestKubeVolume checks what a volume is for on the cluster: what a sandbox writes on it
// survives its stop and start (what it writes on its root filesystem does not: the pod goes),
// and a second sandbox mounting it, read-only, sees it at once and cannot change it.
func TestKubeVolume(t *testing.T) {
	d, _, _ := newVolumeDriver(t, 1)
	ctx := context.Background()
	vol := drivertest.Volume(t, d, 0)
	img := sandbox.Image{Ref: "base"}

	plain := drivertest.NewSpec(t, img)
	took := createStart(t, d, plain)
	t.Logf("create + start without a volume: %s", took)

	a := drivertest.NewSpec(t, img)
	a.Mounts = []sandbox.Mount{{Volume: vol, Destination: "/data"}, {Volume: vol, SubPath: "logs", Destination: "/var/log/app"}}
	took = createStart(t, d, a)
	t.Logf("create + start with a volume (first use: the claim binds): %s", took)
	ga := guest(t, d, a.ID)
	if out := run(t, ga, "sh", "-c", "echo kept > /data/file && echo log > /var/log/app/l && echo lost > /root-file && cat /data/logs/l"); out != "log\n" {
		t.Fatalf("writes on the volume: %q", out)
	}

	start := time.Now()
	if err := d.Stop(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop with a volume: %s", time.Since(start))
	start = time.Now()
	if err := d.Start(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, d, a.ID)
	t.Logf("start with a volume (bound), until the guest answers: %s", time.Since(start))
	out := run(t, guest(t, d, a.ID), "sh", "-c", "cat /data/file /var/log/app/l; cat /root-file 2>/dev/null || echo root-lost")
	if out != "kept\nlog\nroot-lost\n" {
		t.Errorf("after stop and start: %q, want the volume's files and the root filesystem's gone", out)
	}

	b := drivertest.NewSpec(t, img)
	// A writable mount inside the read-only one, at a path the volume does not have yet.
	b.Mounts = []sandbox.Mount{{Volume: vol, Destination: "/shared", ReadOnly: true},
		{Volume: vol, SubPath: "scratch", Destination: "/shared/new/scratch"}}
	took = createStart(t, d, b)
	t.Logf("create + start of a second sandbox with the (bound) volume: %s", took)
	out = run(t, guest(t, d, b.ID), "sh", "-c", "cat /shared/file; (echo x > /shared/file) 2>/dev/null || echo read-only; "+
		"echo s > /shared/new/scratch/f && cat /shared/scratch/f")
	if out != "kept\nread-only\ns\n" {
		t.Errorf("second sandbox: %q, want the first one's file, read-only, and the nested mount writable", out)
	}
}

// createStart creates and starts spec's unit, deleted when t ends, and returns how long that
// took until its guest answered.
func createStart(t *testing.T, d *kube.Driver, spec sandbox.InstanceSpec) time.Duration {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	start := time.Now()
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, d, spec.ID)
	return time.Since(start)
}

// waitReady waits until the guest of the started unit id answers: a pod is ready when its
// container has started, a moment before the guest listens.
func waitReady(t *testing.T, d *kube.Driver, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := drivertest.WaitReady(ctx, d, id); err != nil {
		t.Fatal(err)
	}
}

// guest is a guest client of unit id, closed when t ends.
func guest(t *testing.T, d *kube.Driver, id string) *guestclient.Client {
	gc := guestclient.New(func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, id) }, "")
	t.Cleanup(func() { gc.Close() })
	return gc
}
