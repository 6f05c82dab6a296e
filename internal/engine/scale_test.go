package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

// Test200SandboxesAlive keeps 200 sandboxes running at once and runs a command in each.
func Test200SandboxesAlive(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 200 sandboxes; skipped with -short")
	}
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	const n, workers = 200, 8
	ids := make([]string, n)
	errs := make(chan error, n)
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
	rss := shOK(t, eng, ids[0], "grep VmRSS /proc/1/status")
	t.Logf("200 sandboxes alive; guest of an idle sandbox: %s", strings.Join(strings.Fields(rss), " "))
	for _, id := range ids {
		if err := eng.Delete(ctx, id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	if left := leftovers(t, dir, ids); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// BenchmarkIdleGuestRSS reports the resident memory of an idle sandbox's guest (PID 1).
func BenchmarkIdleGuestRSS(b *testing.B) {
	eng, _ := newTestEngine(b)
	sb := mustCreate(b, eng, sandbox.Spec{})
	var kib float64
	for b.Loop() {
		f := strings.Fields(shOK(b, eng, sb.ID, "grep VmRSS /proc/1/status"))
		if len(f) >= 2 {
			kib, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	b.ReportMetric(kib, "guest-rss-KiB")
}
