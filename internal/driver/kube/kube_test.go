package kube_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// newDriver returns a kube driver on the test cluster, in a fresh namespace.
func newDriver(t *testing.T) (*kube.Driver, *kubetest.Cluster, string) {
	t.Helper()
	return newVolumeDriver(t, 0)
}

// newVolumeDriver is newDriver whose volumes may use the storage of pvs volumes
// (kubetest.StorageClass).
func newVolumeDriver(t *testing.T, pvs int) (*kube.Driver, *kubetest.Cluster, string) {
	t.Helper()
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	class := ""
	if pvs > 0 {
		class = c.StorageClass(t, pvs)
	}
	d, err := kube.New(kube.Config{Client: c.Client, Namespace: ns, GuestImage: c.GuestImage, BaseImage: c.BaseImage,
		RequestPercent: 10, ReadyTimeout: time.Minute, StorageClass: class, VolumeDefaultMB: 64})
	if err != nil {
		t.Fatal(err)
	}
	return d, c, ns
}

// TestKubeDriver runs the conformance suite on the real cluster. Pause is not offered, so
// that case skips; the cluster enforces no NetworkPolicy, so the Networker case checks what
// the driver records; volumes are claims bound to hostPath volumes of the test's own storage
// class.
func TestKubeDriver(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) (sandbox.Driver, sandbox.Image) {
		d, _, _ := newVolumeDriver(t, 2)
		return d, sandbox.Image{Ref: "base"}
	})
}

// TestKubeExitWatcher checks the exit watch: a crash is the guest's pod ending (deleted
// from under the driver, as an eviction would).
func TestKubeExitWatcher(t *testing.T) {
	var cluster *kubetest.Cluster
	var ns string
	drivertest.RunExitWatcher(t, func(t *testing.T) (sandbox.Driver, sandbox.Image) {
		d, c, n := newDriver(t)
		cluster, ns = c, n
		return d, sandbox.Image{Ref: "base"}
	}, func(t *testing.T, _ sandbox.Driver, id string) {
		grace := int64(0)
		if err := cluster.Client.CoreV1().Pods(ns).Delete(context.Background(), "paddock-"+id,
			metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestKubeStats checks that a running pod's usage comes back from the kubelet's summary
// (through the API server's node proxy): CPU time and memory are not zero.
func TestKubeStats(t *testing.T) {
	d, _, _ := newDriver(t)
	ctx := context.Background()
	spec := drivertest.NewSpec(t, sandbox.Image{Ref: "base"})
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	// The kubelet samples every few seconds: wait for the pod's first sample.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := d.Stats(ctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.CPUUsageNs > 0 && st.MemoryBytes > 0 {
			t.Logf("stats: %+v", st)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v after 30s; want CPU time and memory from the kubelet's summary", st)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestKubeStartFailure checks that a pod that cannot start fails Start at once with a
// message saying why, and leaves the unit stopped, without a pod.
func TestKubeStartFailure(t *testing.T) {
	d, c, ns := newDriver(t)
	ctx := context.Background()
	spec := drivertest.NewSpec(t, sandbox.Image{Ref: "paddock.local/missing:none"})
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	err := d.Start(ctx, spec.ID)
	msg, _ := errdefs.PublicMessage(err)
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(msg, "could not be pulled") {
		t.Fatalf("start with a missing image: %v (public %q); want unavailable, saying the image could not be pulled", err, msg)
	}
	t.Logf("public message: %s", msg)
	if _, err := c.Client.CoreV1().Pods(ns).Get(ctx, "paddock-"+spec.ID, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pod after a failed start: %v, want not found", err)
	}
	list, err := d.List(ctx)
	if err != nil || len(list) != 1 || list[0].State != sandbox.StateStopped {
		t.Errorf("List = %+v, %v; want the unit, stopped", list, err)
	}
}

// TestKubeRestart checks what a new Paddock process finds: a fresh driver on the same
// namespace lists the running and the stopped unit, reaches the running one's guest (its
// token read back from the record) and starts the stopped one from its record.
func TestKubeRestart(t *testing.T) {
	d, c, ns := newDriver(t)
	ctx := context.Background()
	running, stopped := drivertest.NewSpec(t, sandbox.Image{Ref: "base"}), drivertest.NewSpec(t, sandbox.Image{Ref: "base"})
	for _, s := range []sandbox.InstanceSpec{running, stopped} {
		t.Cleanup(func() { _ = d.Delete(context.Background(), s.ID) })
		if err := d.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Start(ctx, running.ID); err != nil {
		t.Fatal(err)
	}

	d2, err := kube.New(kube.Config{Client: c.Client, Namespace: ns, GuestImage: c.GuestImage, BaseImage: c.BaseImage,
		RequestPercent: 10, ReadyTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	list, err := d2.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]sandbox.State{}
	for _, in := range list {
		states[in.ID] = in.State
		if in.Labels["suite"] != "drivertest" {
			t.Errorf("%s listed without its labels: %+v", in.ID, in)
		}
	}
	if states[running.ID] != sandbox.StateRunning || states[stopped.ID] != sandbox.StateStopped || len(states) != 2 {
		t.Errorf("after a restart, List = %+v", list)
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := drivertest.WaitReady(rctx, d2, running.ID); err != nil {
		t.Errorf("guest of the running unit through a new driver: %v", err)
	}
	if err := d2.Start(ctx, stopped.ID); err != nil {
		t.Fatalf("start of the stopped unit through a new driver: %v", err)
	}
	if err := drivertest.WaitReady(rctx, d2, stopped.ID); err != nil {
		t.Error(err)
	}
}

// TestKubeRestrictive runs a unit of the restrictive profile: the kubelet accepts its
// security context (user 1000, no capabilities, read-only root with a /tmp volume), and
// processes run under it.
func TestKubeRestrictive(t *testing.T) {
	d, _, _ := newDriver(t)
	ctx := context.Background()
	sec, res, nw, err := profile.Resolve(sandbox.Spec{Profile: "restrictive"})
	if err != nil {
		t.Fatal(err)
	}
	spec := drivertest.NewSpec(t, sandbox.Image{Ref: "base"})
	spec.Security, spec.Resources, spec.Network = sec, res, nw
	t.Cleanup(func() { _ = d.Delete(context.Background(), spec.ID) })
	if err := d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	gc := guestclient.New(func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, spec.ID) }, "")
	defer gc.Close()
	out := run(t, gc, "sh", "-c", "id -u; touch /tmp/ok && echo tmp-writable; touch /root-file 2>/dev/null || echo root-read-only")
	if out != "1000\ntmp-writable\nroot-read-only\n" {
		t.Errorf("inside a restrictive unit: %q", out)
	}
}

// run runs argv through the guest and returns its output.
func run(t *testing.T, gc *guestclient.Client, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := gc.Start(ctx, guestclient.Command{Args: argv})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		o, end, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if o != nil {
			out.Write(o.Data)
		}
		if end != nil {
			return out.String()
		}
	}
}
