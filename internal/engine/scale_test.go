package engine

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// Test200SandboxesAlive keeps 200 sandboxes running at once and runs a command in each.
func Test200SandboxesAlive(t *testing.T) {
	testenv.Heavy(t) // a scale measurement: 200 sandboxes, minutes
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	const n, workers = 200, 8
	ids := make([]string, n)
	errs := make(chan error, n)
	availBefore := memAvailableKiB(t)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				sb, err := eng.Create(ctx, sandbox.Spec{Name: fmt.Sprintf("many-%d", i)}, "")
				if err != nil {
					errs <- fmt.Errorf("create %d: %w", i, err)
					continue
				}
				ids[i] = sb.ID
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for i, id := range ids {
		if got := shOK(t, eng, id, "echo "+strconv.Itoa(i)); got != strconv.Itoa(i) {
			t.Fatalf("sandbox %d answered %q", i, got)
		}
	}
	used := availBefore - memAvailableKiB(t)
	rss := shOK(t, eng, ids[0], "grep -E '^(VmRSS|RssAnon)' /proc/1/status | tr -s '\\t\\n ' ' '")
	t.Logf("%d sandboxes alive: host memory used %d MiB (%d KiB per sandbox, everything included); one guest: %s",
		n, used/1024, used/n, rss)
	for _, id := range ids {
		if err := eng.Delete(ctx, id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	if left := leftovers(t, dir, ids); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// BenchmarkIdleGuestRSS reports the memory of an idle sandbox's guest (PID 1): its RSS, and
// how much of that is private (anonymous) versus clean pages of the guest binary, which the
// page cache shares between every sandbox.
func BenchmarkIdleGuestRSS(b *testing.B) {
	eng, _ := newTestEngine(b)
	sb := mustCreate(b, eng, sandbox.Spec{})
	vals := map[string]float64{}
	read := func() {
		for _, line := range strings.Split(shOK(b, eng, sb.ID, "grep -E '^(VmRSS|RssAnon|RssFile)' /proc/1/status"), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				vals[strings.TrimSuffix(f[0], ":")], _ = strconv.ParseFloat(f[1], 64)
			}
		}
	}
	time.Sleep(time.Second) // let the guest settle after start-up
	read()
	idle := maps.Clone(vals)
	for b.Loop() {
		read()
	}
	b.StopTimer()
	time.Sleep(5 * time.Second) // idle again: the guest trims its heap after 2s of quiet
	read()
	b.ReportMetric(vals["VmRSS"], "rss-idle-after-execs-KiB")
	b.ReportMetric(vals["RssAnon"], "private-idle-after-execs-KiB")
	b.ReportMetric(idle["VmRSS"], "idle-rss-KiB")
	b.ReportMetric(idle["RssAnon"], "idle-private-KiB")
	b.ReportMetric(idle["RssFile"], "idle-shared-text-KiB")
}

// memAvailableKiB reads MemAvailable from /proc/meminfo.
func memAvailableKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
