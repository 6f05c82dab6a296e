package kube_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// newDriver returns a kube driver on the test cluster, in a fresh namespace.
func newDriver(t *testing.T) (*kube.Driver, *kubetest.Cluster, string) {
	t.Helper()
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	d, err := kube.New(kube.Config{Client: c.Client, Namespace: ns, GuestImage: c.GuestImage, BaseImage: c.BaseImage,
		RequestPercent: 10, ReadyTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return d, c, ns
}

// TestKubeDriver runs the conformance suite on the real cluster. Pause is not offered and
// volumes are not kept, so those cases skip; the cluster enforces no NetworkPolicy, so the
// Networker case checks what the driver records.
func TestKubeDriver(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) (sandbox.Driver, sandbox.Image) {
		d, _, _ := newDriver(t)
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
