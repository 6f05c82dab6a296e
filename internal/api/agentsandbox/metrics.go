package agentsandbox

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// metricsRequest is the body of POST /api/v1/sandbox/metrics (GET takes ?names=a,b).
type metricsRequest struct {
	Names []string `json:"names"`
}

// metricsAnswer is Agent-Sandbox's SandboxMetricsResponse: one item per running sandbox
// asked for; unknown and stopped sandboxes are left out.
type metricsAnswer struct {
	Items map[string]metricsItem `json:"items"`
}

// metricsItem is Agent-Sandbox's SandboxMetricsItem. Pod is the sandbox's ID (Paddock has
// no pods).
type metricsItem struct {
	Sandbox     string    `json:"sandbox"`
	Pod         string    `json:"pod"`
	CPUMilli    int64     `json:"cpuMilli"`
	MemoryBytes int64     `json:"memoryBytes"`
	MemoryMB    float64   `json:"memoryMB"`
	SampledAt   time.Time `json:"sampledAt"`
}

// cpuWindow is how far apart the two CPU samples that give cpuMilli are.
const cpuWindow = 200 * time.Millisecond

// maxMetricsNames bounds one request.
const maxMetricsNames = 100

func (a *API) metrics(w http.ResponseWriter, r *http.Request) error {
	var req metricsRequest
	if r.Method == http.MethodPost {
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
	} else if q := r.URL.Query().Get("names"); q != "" {
		req.Names = strings.Split(q, ",")
	}
	names := uniqueNames(req.Names)
	switch {
	case len(names) == 0:
		return errdefs.InvalidArgument("names is required")
	case len(names) > maxMetricsNames:
		return errdefs.InvalidArgument("%d names: ask for at most %d", len(names), maxMetricsNames)
	}
	items := make(map[string]metricsItem, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if it, ok := a.sample(r.Context(), name); ok {
				mu.Lock()
				items[name] = it
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok(w, metricsAnswer{Items: items})
}

// uniqueNames trims names and drops empty and repeated ones.
func uniqueNames(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// sample measures one running sandbox: memory now, CPU over cpuWindow.
func (a *API) sample(ctx context.Context, name string) (metricsItem, bool) {
	sb, err := a.m.Get(ctx, name)
	if err != nil || sb.State != sandbox.StateRunning {
		return metricsItem{}, false
	}
	first, err := a.m.Stats(ctx, sb.ID)
	if err != nil {
		return metricsItem{}, false
	}
	select {
	case <-ctx.Done():
		return metricsItem{}, false
	case <-time.After(cpuWindow):
	}
	last, err := a.m.Stats(ctx, sb.ID)
	if err != nil {
		return metricsItem{}, false
	}
	it := metricsItem{Sandbox: sb.Name, Pod: sb.ID, MemoryBytes: int64(last.MemoryBytes),
		MemoryMB: float64(last.MemoryBytes) / (1 << 20), SampledAt: last.Time.UTC()}
	if dt := last.Time.Sub(first.Time); dt > 0 && last.CPUUsageNs >= first.CPUUsageNs {
		it.CPUMilli = int64(float64(last.CPUUsageNs-first.CPUUsageNs) / float64(dt.Nanoseconds()) * 1000)
	}
	return it, true
}
