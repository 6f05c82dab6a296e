package engine

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// egressBenchPy downloads argv[1] argv[2] times, then opens argv[3] fresh connections with
// one small request each, printing the seconds of every download and request on a line each
// ("d <s>", "r <s>").
const egressBenchPy = `
import sys, time, urllib.request
url, reps, reqs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(reps):
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        while r.read(1 << 20):
            pass
    print("d", time.perf_counter() - t)
base = url.split("/bytes")[0] + "/"
for _ in range(reqs):
    t = time.perf_counter()
    urllib.request.urlopen(base, timeout=10).read()
    print("r", time.perf_counter() - t)
`

// BenchmarkEgress downloads 100 MB from the test internet host through a sandbox's egress
// path (user-mode stack, policy, host socket) and the same from the host directly, side by
// side, and reports the medians: MB/s of each, their ratio, and the latency of a small
// request on a fresh connection. b.N is ignored beyond the first round: one round of
// several downloads is what is measured.
func BenchmarkEgress(b *testing.B) {
	testenv.NeedRunc(b)
	inet := testenv.StartInternet(b, engineSubnet)
	eng := openTestEngine(b, testenv.TempDir(b))
	sb, err := eng.Create(context.Background(), sandbox.Spec{Name: "bench"}, "")
	if err != nil {
		b.Fatal(err)
	}
	const size, reps, reqs = 100 << 20, 5, 50
	url := inet.URL() + "/bytes?n=" + strconv.Itoa(size)
	args := []string{"-c", egressBenchPy, url, strconv.Itoa(reps), strconv.Itoa(reqs)}
	for b.Loop() {
		res, err := eng.Exec(context.Background(), sb.ID, manager.ExecRequest{Command: append([]string{"python3"}, args...), Timeout: 5 * time.Minute})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("in the sandbox: %v %s", err, res.Stderr)
		}
		host, err := exec.Command("/usr/bin/python3", args...).CombinedOutput()
		if err != nil {
			b.Fatalf("on the host: %v %s", err, host)
		}
		sbDown, sbReq := parseBench(b, string(res.Stdout))
		hostDown, hostReq := parseBench(b, string(host))
		mbps := func(s float64) float64 { return size / s / 1e6 }
		b.ReportMetric(mbps(sbDown), "sandbox-MB/s")
		b.ReportMetric(mbps(hostDown), "host-MB/s")
		b.ReportMetric(mbps(sbDown)/mbps(hostDown), "throughput-ratio")
		b.ReportMetric(sbReq*1e3, "sandbox-req-p50-ms")
		b.ReportMetric(hostReq*1e3, "host-req-p50-ms")
	}
}

// parseBench returns the median download and request seconds of egressBenchPy's output.
func parseBench(b *testing.B, out string) (down, req float64) {
	var ds, rs []float64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		kind, v, ok := strings.Cut(line, " ")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			b.Fatalf("benchmark output: %q", out)
		}
		if kind == "d" {
			ds = append(ds, f)
		} else {
			rs = append(rs, f)
		}
	}
	return median(ds), median(rs)
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
