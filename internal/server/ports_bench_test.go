package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
)

// portBench is the same portsrv binary twice: in a sandbox behind the port route, and on
// the host's loopback (the baseline).
type portBench struct {
	direct, routed string
	hc             *http.Client
}

func newPortBench(b *testing.B) *portBench {
	s := newTestServer(b, func(c *config.Config) { c.PoolSize = 0 })
	if _, err := client.New(s.url, testKey).CreateSandbox(context.Background(), client.CreateRequest{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	s.startPortsrv("bench", "8080")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(portsrv(b), port)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pb := &portBench{direct: "http://127.0.0.1:" + port + "/x", routed: s.url + "/sandboxes/bench/ports/8080/x",
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for i := 0; pb.get(pb.direct) != nil; i++ {
		if i == 500 {
			b.Fatal("portsrv on the host never answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return pb
}

// get fetches url with the API key and drains the answer.
func (pb *portBench) get(url string) error {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-API-Key", testKey)
	resp, err := pb.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return &client.Error{Status: resp.StatusCode, Message: "GET " + url}
	}
	return nil
}

// BenchmarkPortRoute sends small GETs one at a time, alternating between portsrv on host
// loopback and the same binary in a sandbox through /sandboxes/{name}/ports/{port}/, and
// reports both side by side: requests/s, p50 and p99 in µs, and the routed/direct ratios.
func BenchmarkPortRoute(b *testing.B) {
	pb := newPortBench(b)
	var direct, routed []time.Duration
	for b.Loop() {
		for _, c := range []struct {
			url string
			ds  *[]time.Duration
		}{{pb.direct, &direct}, {pb.routed, &routed}} {
			start := time.Now()
			if err := pb.get(c.url); err != nil {
				b.Fatal(err)
			}
			*c.ds = append(*c.ds, time.Since(start))
		}
	}
	d, r := summarize(direct), summarize(routed)
	b.ReportMetric(d.rps, "direct-req/s")
	b.ReportMetric(r.rps, "routed-req/s")
	b.ReportMetric(d.p50, "direct-p50-µs")
	b.ReportMetric(r.p50, "routed-p50-µs")
	b.ReportMetric(d.p99, "direct-p99-µs")
	b.ReportMetric(r.p99, "routed-p99-µs")
	b.ReportMetric(r.p50/d.p50, "p50-ratio")
	b.ReportMetric(d.rps/r.rps, "rps-ratio")
}

// BenchmarkPortRouteParallel sends batches of 8 concurrent GETs, alternating between the two
// paths, and reports the throughput of each: one iteration is one batch on each path.
func BenchmarkPortRouteParallel(b *testing.B) {
	pb := newPortBench(b)
	const workers = 8
	var direct, routed time.Duration
	batch := func(url string) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				if err := pb.get(url); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	n := 0
	for b.Loop() {
		direct += batch(pb.direct)
		routed += batch(pb.routed)
		n += workers
	}
	b.ReportMetric(float64(n)/direct.Seconds(), "direct-req/s")
	b.ReportMetric(float64(n)/routed.Seconds(), "routed-req/s")
	b.ReportMetric(routed.Seconds()/direct.Seconds(), "time-ratio")
}

type latencies struct{ rps, p50, p99 float64 }

func summarize(ds []time.Duration) latencies {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Nanoseconds()) / 1e3
	}
	return latencies{rps: float64(len(ds)) / total.Seconds(), p50: pct(0.5), p99: pct(0.99)}
}
