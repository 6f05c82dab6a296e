package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
	"github.com/paddock/paddock/internal/testenv/kubetest"
)

// benchServer is one driver's side of TestKubeVersusRunc: replicas (two for kube, one for
// runc) and a warm-pool server.
type benchServer struct {
	name     string
	replicas []*client.Client
	pooled   *servertest.Process // --pool-size 2
}

// TestKubeVersusRunc measures, through the HTTP API of real `paddock serve` processes in the
// same run on the same machine, pod-backed sandboxes (two replicas on Postgres) next to runc
// ones (one replica on SQLite): cold create to running (guest answering), a warm-pool claim,
// an exec round trip, and creates per second with creates spread over the replicas. It logs
// median, p90 and p99 (with these sample sizes p99 is about the maximum) and asserts no time.
// Heavy: PADDOCK_TEST_HEAVY=1 scripts/kube-e2e.sh -v -run '^TestKubeVersusRunc$'.
func TestKubeVersusRunc(t *testing.T) {
	testenv.Heavy(t)
	c := kubetest.Require(t)
	testenv.NeedRunc(t)
	ns := c.Namespace(t)
	key := servertest.Key
	runcServe := func(extra ...string) *servertest.Process {
		addr := servertest.FreeAddr(t)
		args := append([]string{"serve", "--listen", addr, "--data-dir", testenv.TempDir(t), "--api-key", key,
			"--egress-dns", testenv.NoDNS, "--pool-prewarm", ""}, extra...)
		return servertest.StartProcess(t, addr, testenv.PaddockBinary(t), args...)
	}
	kubeRs := startKubeReplicas(t, c, ns, 2, "--pool-size", "0")
	kubePool := startKubeReplicas(t, c, ns, 1, "--pool-size", "2", "--pool-prewarm", "")[0]
	runc := runcServe("--pool-size", "0")
	servers := []benchServer{
		{name: "kube", replicas: []*client.Client{kubeRs[0].c, kubeRs[1].c}, pooled: kubePool.Process},
		{name: "runc", replicas: []*client.Client{client.New(runc.URL, key)}, pooled: runcServe("--pool-size", "2")},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Run("cold", func(t *testing.T) { benchCold(t, s.name, s.replicas[0], 10) })
			t.Run("claim", func(t *testing.T) { benchClaim(t, s.name, s.pooled, 6) })
			t.Run("exec", func(t *testing.T) { benchExec(t, s.name, s.replicas[0], 100) })
			t.Run("creates", func(t *testing.T) {
				if len(s.replicas) > 1 {
					benchThroughput(t, s.name, s.replicas[:1], 10)
				}
				benchThroughput(t, s.name, s.replicas, 10)
			})
		})
	}
}

// benchCold creates and deletes n sandboxes one at a time, timing each create (it returns
// once the sandbox runs and its guest answers).
func benchCold(t *testing.T, driver string, c *client.Client, n int) {
	ctx := context.Background()
	var lat, del []time.Duration
	for i := range n {
		name := fmt.Sprintf("cold%d", i)
		start := time.Now()
		if _, err := c.CreateSandbox(ctx, apitype.CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		start = time.Now()
		if err := c.DeleteSandbox(ctx, name); err != nil {
			t.Fatal(err)
		}
		del = append(del, time.Since(start))
	}
	logLatencies(t, driver, "cold create → running", lat)
	logLatencies(t, driver, "delete of a running sandbox", del)
}

// benchClaim times n creates that each find a warm sandbox ready in p's pool (it waits for
// the refill between them), then an exec of `true` in the claimed sandbox.
func benchClaim(t *testing.T, driver string, p *servertest.Process, n int) {
	ctx := context.Background()
	c := client.New(p.URL, servertest.Key)
	var claim, first []time.Duration
	for i := range n {
		waitPoolReady(t, p.URL)
		name := fmt.Sprintf("warm%d", i)
		start := time.Now()
		if _, err := c.CreateSandbox(ctx, apitype.CreateRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		claim = append(claim, time.Since(start))
		if _, err := c.Exec(ctx, name, apitype.ExecRequest{Command: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		first = append(first, time.Since(start))
		if err := c.DeleteSandbox(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	logLatencies(t, driver, "warm-pool claim", claim)
	logLatencies(t, driver, "warm-pool claim + exec true", first)
	if n := poolMetric(t, p.URL, "paddock_pool_misses_total"); n != 0 {
		t.Logf("%s: %v creates found the pool empty", driver, n)
	}
}

// benchExec times n execs of `true` in one running sandbox.
func benchExec(t *testing.T, driver string, c *client.Client, n int) {
	ctx := context.Background()
	if _, err := c.CreateSandbox(ctx, apitype.CreateRequest{Name: "exec"}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.DeleteSandbox(ctx, "exec") }()
	var lat []time.Duration
	for range n {
		start := time.Now()
		if _, err := c.Exec(ctx, "exec", apitype.ExecRequest{Command: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	logLatencies(t, driver, "exec true round trip", lat)
}

// benchThroughput starts n creates at once, spread round-robin over the replicas, and logs
// creates per second (n over the time until the last is running), then deletes them.
func benchThroughput(t *testing.T, driver string, rs []*client.Client, n int) {
	ctx := context.Background()
	errs := make([]error, n)
	lat := make([]time.Duration, n)
	prefix := fmt.Sprintf("burst%dr", len(rs))
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			t0 := time.Now()
			_, errs[i] = rs[i%len(rs)].CreateSandbox(ctx, apitype.CreateRequest{Name: fmt.Sprintf("%s%d", prefix, i)})
			lat[i] = time.Since(t0)
		})
	}
	wg.Wait()
	wall := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %s%d: %v", prefix, i, err)
		}
	}
	t.Logf("%s: %d creates at once over %d replica(s): all running after %v: %.2f creates/s (load %s)",
		driver, n, len(rs), wall.Round(time.Millisecond), float64(n)/wall.Seconds(), loadAverage())
	logLatencies(t, driver, fmt.Sprintf("create among %d at once", n), lat)
	for i := range n {
		if errs[i] == nil {
			wg.Go(func() {
				if err := rs[i%len(rs)].DeleteSandbox(ctx, fmt.Sprintf("%s%d", prefix, i)); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}

// logLatencies logs the median, p90 and p99 of lat (nearest rank).
func logLatencies(t *testing.T, driver, what string, lat []time.Duration) {
	s := slices.Clone(lat)
	slices.Sort(s)
	rank := func(q float64) time.Duration {
		return s[max(0, int(math.Ceil(q*float64(len(s))))-1)].Round(100 * time.Microsecond)
	}
	t.Logf("%s: %s (n=%d): median %v, p90 %v, p99 %v", driver, what, len(s), rank(0.5), rank(0.9), rank(0.99))
}

// waitPoolReady waits up to a minute for the base template's pool to hold a ready sandbox.
func waitPoolReady(t *testing.T, url string) {
	deadline := time.Now().Add(time.Minute)
	for poolMetric(t, url, "paddock_pool_ready") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the base pool has no ready sandbox after a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// poolMetric reads the base template's sample of a pool metric from the server's /metrics.
func poolMetric(t *testing.T, url, name string) float64 {
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	req.Header.Set("X-API-Key", servertest.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, `template="base"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no %s{template=\"base\"} in %s/metrics (status %d)", name, url, resp.StatusCode)
	return 0
}

// loadAverage is the machine's 1-minute load average, for the log ("?" if unknown).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
