package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/config"
)

// postQuery sends POST /query to a runc server and returns its events.
func postQuery(t testing.TB, s *testServer, body any) []agent.Event {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/query", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var evs []agent.Event
	for _, line := range strings.Split(string(raw), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev agent.Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
	}
	if resp.StatusCode != 200 || len(evs) == 0 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	return evs
}

// The tools on real runc, across turns: write_file then read_file, run_code keeping a
// python variable from one call to the next, a structured final answer, and web_fetch
// from inside the sandbox, whose default network (loopback only) cannot reach the host's
// server: the fetch fails and the server never sees a request.
func TestSandcasterToolsRunc(t *testing.T) {
	var hits atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "reached")
	}))
	t.Cleanup(site.Close)
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "t1", Name: "write_file", Input: `{"path":"data/n.txt","content":"41"}`}}},
		providertest.Turn{Calls: []providertest.Call{{ID: "t2", Name: "read_file", Input: `{"path":"data/n.txt"}`}}},
		providertest.Turn{Calls: []providertest.Call{{ID: "t3", Name: "run_code",
			Input: `{"code":"n = int(open('data/n.txt').read()) + 1\nprint('loaded', n)"}`}}},
		providertest.Turn{Calls: []providertest.Call{{ID: "t4", Name: "run_code", Input: `{"code":"n * 1"}`}}},
		providertest.Turn{Calls: []providertest.Call{{ID: "t5", Name: "web_fetch", Input: `{"url":"` + site.URL + `","timeout":5}`}}},
		providertest.Turn{Text: `{"n": 42}`},
	)
	t.Setenv("ANTHROPIC_API_KEY", "sk-runc")
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", "")
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	evs := postQuery(t, s, map[string]any{"prompt": "increment", "outputFormat": map[string]any{
		"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}, "required": []string{"n"}}})
	var results []agent.Event
	for _, ev := range evs {
		if ev.Type == agent.EventToolResult {
			results = append(results, ev)
		}
	}
	final := evs[len(evs)-1]
	if len(results) != 5 || final.Type != agent.EventResult {
		t.Fatalf("events: %+v", evs)
	}
	if out, _ := json.Marshal(final.StructuredOutput); string(out) != `{"n":42}` {
		t.Errorf("structured output %s", out)
	}
	wants := []struct {
		text  string
		isErr bool
	}{{"wrote 2 bytes to /home/user/data/n.txt", false}, {"41", false}, {"loaded 42", false}, {"result:\n42", false}, {"error:", true}}
	for i, w := range wants {
		if r := results[i]; *r.IsError != w.isErr || !strings.Contains(r.Content, w.text) {
			t.Errorf("%s: %q (error %v), want %q", r.ToolName, r.Content, *r.IsError, w.text)
		}
	}
	t.Logf("web_fetch: %s", results[4].Content)
	if hits.Load() != 0 {
		t.Error("web_fetch reached the host from a sandbox without egress")
	}
	if sbs, err := s.srv.eng.List(t.Context(), noFilter); err != nil || len(sbs) != 0 {
		t.Errorf("sandboxes left: %d (%v)", len(sbs), err)
	}
}

// BenchmarkSandcasterToolCallRunc is BenchmarkQueryToolCall (internal/api/sandcaster) on
// real runc: what a bash tool call adds outside the model, per call, as the double sees it.
func BenchmarkSandcasterToolCallRunc(b *testing.B) {
	const calls = 20
	turns := make([]providertest.Turn, 0, b.N*(calls+1))
	for range b.N {
		for i := range calls {
			turns = append(turns, providertest.Turn{Text: "step", Calls: []providertest.Call{
				{ID: fmt.Sprintf("toolu_%d", i), Name: "bash", Input: `{"command":"true"}`}}})
		}
		turns = append(turns, providertest.Turn{Text: "done"})
	}
	anth := providertest.NewAnthropic(b, turns...)
	b.Setenv("ANTHROPIC_API_KEY", "sk-bench")
	b.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	b.Setenv("PADDOCK_SANDCASTER_WORKDIR", "")
	s := newTestServer(b, func(c *config.Config) { c.PoolSize = 0 })
	b.ResetTimer()
	for range b.N {
		if evs := postQuery(b, s, map[string]any{"prompt": "go"}); evs[len(evs)-1].Type != agent.EventResult {
			b.Fatalf("last event %+v", evs[len(evs)-1])
		}
	}
	b.StopTimer()
	reqs := anth.Requests()
	var gaps []time.Duration
	for i := 1; i < len(reqs); i++ {
		if i%(calls+1) != 0 {
			gaps = append(gaps, reqs[i].At.Sub(reqs[i-1].Done))
		}
	}
	slices.Sort(gaps)
	pick := func(q float64) float64 {
		return float64(gaps[min(len(gaps)-1, int(q*float64(len(gaps))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pick(0.5), "call-p50-µs")
	b.ReportMetric(pick(0.99), "call-p99-µs")
}
