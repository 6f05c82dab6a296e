package sandcaster_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/server/servertest"
)

// BenchmarkQueryToolCall measures what a tool call adds outside the model in the whole
// server on the fake driver: POST /query through the real Anthropic SDK to the double, each
// turn one bash call ("true", a real process through the manager). Per call, from the end of
// the double's answer to the arrival of the next request: SDK parsing, loop, the command
// through the manager, the SSE events, the audit event, and the SDK's next request. One op is
// one run of 20 calls (sandbox create and delete included in ns/op).
func BenchmarkQueryToolCall(b *testing.B) {
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
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY"} {
		b.Setenv(v, "")
	}
	b.Setenv("ANTHROPIC_API_KEY", serverKey)
	b.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	b.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(b))
	s := servertest.New(b)
	b.ResetTimer()
	for range b.N {
		resp, raw := s.Do(servertest.Request{Method: http.MethodPost, Path: "/query", Body: map[string]any{"prompt": "go"}})
		if resp.StatusCode != 200 || !strings.Contains(string(raw), "event: result") {
			b.Fatalf("%d %s", resp.StatusCode, raw)
		}
	}
	b.StopTimer()
	reqs := anth.Requests()
	var gaps []time.Duration
	for i := 1; i < len(reqs); i++ {
		if i%(calls+1) != 0 { // not across two runs
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
