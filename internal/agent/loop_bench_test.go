package agent_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/anthropic"
	"github.com/paddock/paddock/internal/agent/providertest"
)

// callsPerRun is how many tool-call turns each benchmarked run has (then one final answer).
const callsPerRun = 20

// memBox is a Sandbox that answers at once: the benchmark measures the loop, not a sandbox.
type memBox struct{}

func (memBox) Exec(context.Context, string, string, time.Duration, int) (agent.ExecResult, error) {
	return agent.ExecResult{Stdout: []byte("ok\n")}, nil
}
func (memBox) ReadFile(context.Context, string, int64) ([]byte, bool, error) {
	return []byte("x"), false, nil
}
func (memBox) WriteFile(context.Context, string, []byte) error { return nil }
func (memBox) List(context.Context, string) ([]string, error)  { return nil, nil }

// timedProvider notes when each Turn started and returned.
type timedProvider struct {
	agent.Provider
	starts, ends []time.Time
}

func (p *timedProvider) Turn(ctx context.Context, req agent.TurnRequest, onDelta func(agent.Delta) error) (*agent.Reply, error) {
	p.starts = append(p.starts, time.Now())
	defer func() { p.ends = append(p.ends, time.Now()) }()
	return p.Provider.Turn(ctx, req, onDelta)
}

// toolScript is a run of n bash calls, then an answer.
func toolScript(n int) []providertest.Turn {
	turns := make([]providertest.Turn, 0, n+1)
	for i := range n {
		turns = append(turns, providertest.Turn{Text: "step", InputTokens: 10, OutputTokens: 2, Calls: []providertest.Call{
			{ID: fmt.Sprintf("toolu_%d", i), Name: agent.ToolBash, Input: `{"command":"true"}`}}})
	}
	return append(turns, providertest.Turn{Text: "done", InputTokens: 10, OutputTokens: 2})
}

// gaps are the double's view of a run: from the end of its answer with a tool call to the
// arrival of the next request, that is all the time a tool call adds outside the model.
func gaps(reqs []providertest.Request) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(reqs); i++ {
		out = append(out, reqs[i].At.Sub(reqs[i-1].Done))
	}
	return out
}

// reportPercentiles reports p50 and p99 of ds in microseconds under name.
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pick := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pick(0.50), name+"-p50-µs")
	b.ReportMetric(pick(0.99), name+"-p99-µs")
}

// BenchmarkLoopToolCall measures the agent loop's own cost per tool call: the real
// Anthropic SDK against the wire-exact double on loopback, a sandbox that answers at once.
// call-* is the double's view (SDK parsing the stream, loop, events, tool dispatch, SDK
// building and sending the next request); loop-* is the loop alone (from one Turn's return
// to the next Turn's start). One op is one run of 20 tool calls.
func BenchmarkLoopToolCall(b *testing.B) {
	var calls, loops []time.Duration
	for b.Loop() {
		b.StopTimer()
		double := providertest.NewAnthropic(b, toolScript(callsPerRun)...)
		prov := &timedProvider{Provider: anthropic.New("sk-bench", double.URL(), 0)}
		run := &agent.Run{Provider: prov, Model: "claude-sonnet-4-6", Tools: &agent.Toolbox{Box: memBox{}, Dir: "/w"},
			Emit: func(agent.Event) error { return nil }}
		b.StartTimer()
		if _, err := run.Do(context.Background(), "go"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		calls = append(calls, gaps(double.Requests())...)
		for i := 1; i < len(prov.starts); i++ {
			loops = append(loops, prov.starts[i].Sub(prov.ends[i-1]))
		}
		b.StartTimer()
	}
	reportPercentiles(b, "call", calls)
	reportPercentiles(b, "loop", loops)
}
