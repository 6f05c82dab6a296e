package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// kubeReplica is one `paddock serve --driver kube` process of a test's cluster of replicas.
type kubeReplica struct {
	*servertest.Process
	c *client.Client
}

// startKubeReplicas starts n `paddock serve --driver kube` processes on one Postgres schema
// (a pgtest server on the namespace's loopback), each with its own data dir, sharing the API
// key, the JWT secret and the kube namespace ns. extra is added to every replica's flags.
func startKubeReplicas(t *testing.T, c *kubetest.Cluster, ns string, n int, extra ...string) []*kubeReplica {
	t.Helper()
	db := pgtest.Start(t).NewSchema(t)
	bin := testenv.PaddockBinary(t)
	rs := make([]*kubeReplica, n)
	for i := range rs {
		addr := servertest.FreeAddr(t)
		args := append([]string{"serve", "--listen", addr, "--store", db, "--data-dir", testenv.TempDir(t),
			"--api-key", servertest.Key, "--jwt-secret", "kube-replicas-test-secret-0123456789abcdef",
			"--reap-interval", "200ms", "--driver", "kube", "--kubeconfig", c.Kubeconfig, "--kube-namespace", ns,
			"--kube-guest-image", c.GuestImage, "--kube-base-image", c.BaseImage, "--kube-request-percent", "10"}, extra...)
		p := servertest.StartProcess(t, addr, bin, args...)
		rs[i] = &kubeReplica{Process: p, c: client.New(p.URL, servertest.Key)}
	}
	return rs
}

// TestKubeReplicas runs two replicas on one Postgres with the Kubernetes driver: creates of
// one name from both at once, a sandbox made through one operated (exec, files, delete)
// through the other with the native API and with the E2B JS SDK, and after `kill -9` of the
// leader the other leads and reaps an expiring sandbox exactly once.
func TestKubeReplicas(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	rs := startKubeReplicas(t, c, ns, 2, "--pool-size", "0")
	ctx := context.Background()
	t.Cleanup(func() {
		if t.Failed() {
			for i, r := range rs {
				t.Logf("replica %d log:\n%s", i, r.Logs)
			}
		}
	})

	t.Run("create race", func(t *testing.T) {
		clients := make([]*client.Client, len(rs))
		for i, r := range rs {
			clients[i] = r.c
		}
		servertest.CreateRace(t, ctx, clients, 3)
		assertNoPods(t, c, ns, "")
	})

	t.Run("operate through the other", func(t *testing.T) {
		sb, err := rs[0].c.CreateSandbox(ctx, apitype.CreateRequest{Name: "across"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rs[0].c.DeleteSandbox(context.Background(), "across") })
		res, err := rs[1].c.Exec(ctx, "across", apitype.ExecRequest{Command: []string{"echo", "hi"}})
		if err != nil || res.Stdout != "hi\n" {
			t.Fatalf("exec through the other replica: %+v, %v", res, err)
		}
		if err := rs[1].c.WriteFile(ctx, "across", "/tmp/f", []byte("from B")); err != nil {
			t.Fatal(err)
		}
		if b, err := rs[0].c.ReadFile(ctx, "across", "/tmp/f"); err != nil || string(b) != "from B" {
			t.Fatalf("a file written through one replica, read through the other: %q, %v", b, err)
		}
		if err := rs[1].c.DeleteSandbox(ctx, "across"); err != nil {
			t.Fatalf("delete through the other replica: %v", err)
		}
		if _, err := rs[0].c.GetSandbox(ctx, "across"); servertest.Status(err) != http.StatusNotFound {
			t.Fatalf("get through the maker after the delete: %v, want 404", err)
		}
		assertNoPods(t, c, ns, sb.ID)
	})

	t.Run("E2B SDK", func(t *testing.T) { runKubeSDK(t, rs[0].URL, rs[1].URL) })

	t.Run("failover", func(t *testing.T) {
		li := servertest.LeaderOf(t, rs[0].Process, rs[1].Process)
		lead, follow := rs[li], rs[1-li]
		if _, err := follow.c.CreateSandbox(ctx, apitype.CreateRequest{Name: "after", TTL: "4s"}); err != nil {
			t.Fatal(err)
		}
		killed := servertest.KillLeader(t, lead.Process, follow.Process)
		servertest.WaitGone(t, follow.c, "after", 30*time.Second)
		t.Logf("it reaped a sandbox made to expire 4 s after its creation %v after the kill", time.Since(killed).Round(time.Millisecond))
		// Give a second reaper (there should be none) time to act on a stale listing.
		time.Sleep(time.Second)
		evs, err := follow.c.Events(ctx, url.Values{"sandbox": {"after"}, "type": {"sandbox_removed"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("after removed %d times, want once: %+v", len(evs), evs)
		}
		assertNoPods(t, c, ns, "")
	})
}

// runKubeSDK runs sdktest/kube.test.js with node: the E2B JS SDK creates a sandbox through
// the replica at urlA and uses and kills it through the one at urlB.
func runKubeSDK(t *testing.T, urlA, urlB string) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "sdktest")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Require(t, "sdk", "node not in PATH: apt-get install nodejs")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "e2b")); err != nil {
		testenv.Require(t, "sdk", "E2B SDKs not installed: npm ci --prefix sdktest")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "kube.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PADDOCK_A_URL="+urlA, "PADDOCK_B_URL="+urlB, "E2B_API_KEY="+servertest.Key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("E2B SDK through two replicas: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// assertNoPods fails t if a pod of sandbox id (any sandbox, for "") is still in ns.
func assertNoPods(t *testing.T, c *kubetest.Cluster, ns, id string) {
	t.Helper()
	sel := "app.kubernetes.io/managed-by=paddock"
	if id != "" {
		sel = "paddock.sandbox.id=" + id
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		t.Errorf("pod %s (%s) still there after the delete", p.Name, p.Status.Phase)
	}
}

// TestKubeReplicaPools runs two replicas whose built-in templates (base, code-interpreter-v1)
// have warm pools of 1: the cluster keeps 2 warm pods, not 2 per replica; the follower
// claims one of the leader's, which the leader replaces; after `kill -9` of the leader its
// warm pods (which outlive it) are claimed through the survivor, which then refills the
// pools, and every pod left is a sandbox's or a warm one.
func TestKubeReplicaPools(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t)
	rs := startKubeReplicas(t, c, ns, 2, "--pool-size", "1", "--pool-prewarm", "")
	ctx := context.Background()
	t.Cleanup(func() {
		if t.Failed() {
			for i, r := range rs {
				t.Logf("replica %d log:\n%s", i, r.Logs)
			}
		}
	})
	const warmPods = 2 // one pool of 1 per built-in template

	waitWarm(t, c, ns, rs[0].c, warmPods, "the cluster's pools")
	li := servertest.LeaderOf(t, rs[0].Process, rs[1].Process)
	lead, follow := rs[li], rs[1-li]
	warm := warmPodIDs(t, c, ns, follow.c)
	sb, err := follow.c.CreateSandbox(ctx, apitype.CreateRequest{Name: "warm1", Template: "base"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(warm, sb.ID) {
		t.Fatalf("the follower made %s, not one of the leader's warm pods %v", sb.ID, warm)
	}
	if res, err := follow.c.Exec(ctx, "warm1", apitype.ExecRequest{Command: []string{"echo", "hi"}}); err != nil || res.Stdout != "hi\n" {
		t.Fatalf("exec in the claimed pod: %+v, %v", res, err)
	}
	waitWarm(t, c, ns, follow.c, warmPods, "the pools refilled after the claim")

	warm = warmPodIDs(t, c, ns, follow.c)
	killed := servertest.KillLeader(t, lead.Process, follow.Process)
	for i, tmpl := range []string{"base", "code-interpreter-v1"} {
		name := "survivor" + string(rune('a'+i))
		sb, err := follow.c.CreateSandbox(ctx, apitype.CreateRequest{Name: name, Template: tmpl})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(warm, sb.ID) {
			t.Errorf("the survivor made %s for %s, not one of the dead leader's warm pods %v", sb.ID, tmpl, warm)
		}
	}
	waitWarm(t, c, ns, follow.c, warmPods, "the survivor's pools")
	t.Logf("the survivor claimed the dead leader's warm pods and refilled the pools %v after the kill",
		time.Since(killed).Round(time.Millisecond))
	for _, name := range []string{"warm1", "survivora", "survivorb"} {
		if err := follow.c.DeleteSandbox(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	waitWarm(t, c, ns, follow.c, warmPods, "every pod a warm one after the deletes")
}

// warmPodIDs lists the sandbox IDs of the pods in ns that no sandbox listed through r has:
// the warm ones (pods being deleted left out).
func warmPodIDs(t *testing.T, c *kubetest.Cluster, ns string, r *client.Client) []string {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=paddock"})
	if err != nil {
		t.Fatal(err)
	}
	sbs, err := r.ListSandboxes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		id := p.Labels["paddock.sandbox.id"]
		if p.DeletionTimestamp == nil && !slices.ContainsFunc(sbs, func(sb client.Sandbox) bool { return sb.ID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// waitWarm waits (90 s at most) until ns has n warm pods, and still has after 3 s (time for
// a second filler, if there were one, to make more).
func waitWarm(t *testing.T, c *kubetest.Cluster, ns string, r *client.Client, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if len(warmPodIDs(t, c, ns, r)) == n {
			time.Sleep(3 * time.Second)
			if got := warmPodIDs(t, c, ns, r); len(got) == n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: warm pods %v, want %d", what, warmPodIDs(t, c, ns, r), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
