// Package kubetest gives tests the real single-node Kubernetes cluster that
// scripts/kube-e2e.sh brings up in a private network namespace, and a fresh namespace in it
// per caller. Tests that use it are named TestKube… and run inside that network namespace
// (pod IPs are reachable only there); elsewhere they skip with the reason, or fail when
// PADDOCK_TEST_REQUIRE names "kube".
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/paddock/paddock/internal/testenv"
)

// Environment variables scripts/kube-e2e.sh sets for the tests it runs.
const (
	// KubeconfigEnv is the path of an admin kubeconfig for the cluster.
	KubeconfigEnv = "PADDOCK_TEST_KUBECONFIG"
	// GuestImageEnv names an image, loaded into the node, holding the static paddock binary
	// at /paddock (the Kubernetes driver's guest image).
	GuestImageEnv = "PADDOCK_TEST_KUBE_GUEST_IMAGE"
	// BaseImageEnv names an image, loaded into the node, with a shell and coreutils
	// (busybox) that sandboxes run by default.
	BaseImageEnv = "PADDOCK_TEST_KUBE_BASE_IMAGE"
)

// Component is the name PADDOCK_TEST_REQUIRE uses to make a missing cluster a failure.
const Component = "kube"

// Cluster is the test cluster.
type Cluster struct {
	Kubeconfig string
	GuestImage string
	BaseImage  string
	Config     *rest.Config
	Client     kubernetes.Interface
}

// Require returns the cluster, or skips (fails, when required) t when there is none.
func Require(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{Kubeconfig: os.Getenv(KubeconfigEnv), GuestImage: os.Getenv(GuestImageEnv), BaseImage: os.Getenv(BaseImageEnv)}
	if c.Kubeconfig == "" || c.GuestImage == "" || c.BaseImage == "" {
		testenv.Require(t, Component, "no Kubernetes cluster: "+KubeconfigEnv+", "+GuestImageEnv+" and "+BaseImageEnv+
			" are set by scripts/kube-e2e.sh, which brings one up and runs the TestKube tests inside its network namespace")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", c.Kubeconfig, err)
	}
	c.Config = cfg
	if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatalf("kubernetes client: %v", err)
	}
	return c
}

// Namespace creates a namespace with a fresh name for t and deletes it, with everything in
// it, when t ends.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "pdtest-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"paddock.dev/test": "true"}}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		grace := int64(0)
		// Pods first, without grace, so that the namespace goes at once.
		_ = c.Client.CoreV1().Pods(name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
		if err := c.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", name, err)
		}
	})
	// The apiserver refuses pods until the service account controller has made the
	// namespace's "default" account, a moment after the namespace.
	for {
		_, err := c.Client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("namespace %s has no default service account: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return name
}
