package sandcaster_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/api/sandcaster"
	"github.com/paddock/paddock/internal/audit"
)

// A two-turn Anthropic run: the model writes a file and runs a command in the sandbox, then
// answers. Events arrive in order, the tool results go back to the model as tool_result
// blocks, every call is audited, the sandbox is gone and the key is nowhere but the request.
func TestQueryAnthropicToolLoop(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Thinking: "plan it", Text: "Writing the note.", InputTokens: 100, OutputTokens: 20, Calls: []providertest.Call{
			{ID: "toolu_1", Name: "write_file", Input: `{"path":"notes/a.txt","content":"hello sandbox"}`},
			{ID: "toolu_2", Name: "bash", Input: `{"command":"cat notes/a.txt; echo oops >&2"}`},
		}},
		providertest.Turn{Text: "The note says hello sandbox.", InputTokens: 200, OutputTokens: 10},
	)
	s := newServer(t, anth, nil)
	status, evs, raw := query(t, s, map[string]any{"prompt": "write a note", "model": "sonnet", "thinkingLevel": "low",
		"files": map[string]string{"in/data.txt": "input"}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	want := "system/sandbox_created system/files_uploaded system/init thinking/delta thinking/delta assistant/delta assistant/delta " +
		"thinking/complete assistant/complete tool_use:write_file tool_result:write_file file tool_use:bash stderr tool_result:bash " +
		"assistant/delta assistant/delta assistant/complete result/success"
	if got := kinds(evs); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
	if evs[0].SandboxID == "" {
		t.Error("system event without sandboxId")
	}
	for _, e := range evs {
		if e.Type == "tool_result" && e.ToolName == "bash" && (!strings.Contains(e.Content, "hello sandbox") || *e.IsError) {
			t.Errorf("bash result %+v", e)
		}
		if e.Type == "file" && (!strings.HasSuffix(e.Path, "/notes/a.txt") || e.Content != "hello sandbox") {
			t.Errorf("file event %+v", e)
		}
		if e.Type == "stderr" && e.Content != "oops\n" {
			t.Errorf("stderr %q", e.Content)
		}
	}
	res := last(t, evs)
	if res.Content != "The note says hello sandbox." || *res.NumTurns != 2 || *res.InputTokens != 300 || *res.OutputTokens != 30 ||
		res.Model != "claude-sonnet-4-6" || *res.CostUSD != (300*3+30*15)/1e6 || res.DurationSecs == nil {
		t.Errorf("result %+v", res)
	}

	reqs := anth.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d provider requests", len(reqs))
	}
	// The SDK (v2) presents the key as x-api-key or as a bearer token, and its own API version.
	h := reqs[0].Header
	if (h.Get("X-Api-Key") != serverKey && h.Get("Authorization") != "Bearer "+serverKey) || h.Get("Anthropic-Version") == "" {
		t.Errorf("headers %v", reqs[0].Header)
	}
	if reqs[0].Body["stream"] != true || reqs[0].Body["model"] != "claude-sonnet-4-6" {
		t.Errorf("body %v", reqs[0].Body)
	}
	if th, _ := reqs[0].Body["thinking"].(map[string]any); th["type"] != "enabled" || th["budget_tokens"] != 1024.0 {
		t.Errorf("thinking %v", reqs[0].Body["thinking"])
	}
	if tools, _ := reqs[0].Body["tools"].([]any); len(tools) != 7 {
		t.Errorf("tools offered: %v", reqs[0].Body["tools"])
	}
	second, _ := json.Marshal(reqs[1].Body["messages"])
	for _, want := range []string{`"tool_use_id":"toolu_1"`, `"tool_use_id":"toolu_2"`, `"type":"tool_result"`, `"signature":"sig-double"`, `hello sandbox`} {
		if !strings.Contains(string(second), want) {
			t.Errorf("second request lacks %s: %s", want, second)
		}
	}

	noSandboxes(t, s)
	evts, err := s.Srv.Engine().Events.ListEvents(context.Background(), audit.Filter{Type: sandcaster.AuditToolCall})
	if err != nil {
		t.Fatal(err)
	}
	if len(evts) != 2 || evts[0].Details["tool"] != "write_file" || evts[1].Details["tool"] != "bash" {
		t.Errorf("audit %+v", evts)
	}
	if strings.Contains(s.Logs.String(), serverKey) {
		t.Error("the provider key is in the server's log")
	}
}

// An OpenAI-compatible run: tool call arguments arrive in fragments, results go back as
// role "tool" messages, usage comes from the final usage-only chunk.
func TestQueryOpenAIToolLoop(t *testing.T) {
	oai := providertest.NewOpenAI(t,
		providertest.Turn{Calls: []providertest.Call{
			{ID: "call_1", Name: "write_file", Input: `{"path":"x.py","content":"print(6*7)"}`},
			{ID: "call_2", Name: "bash", Input: `{"command":"python3 x.py"}`},
		}, InputTokens: 50, OutputTokens: 5},
		providertest.Turn{Text: "It prints 42.", InputTokens: 80, OutputTokens: 4},
	)
	s := newServer(t, nil, oai)
	status, evs, raw := query(t, s, map[string]any{"prompt": "run it", "model": "gpt-4o"})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	want := "system/sandbox_created system/init tool_use:write_file tool_result:write_file file tool_use:bash tool_result:bash " +
		"assistant/delta assistant/delta assistant/complete result/success"
	if got := kinds(evs); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
	if r := evs[6]; !strings.Contains(r.Content, "42") {
		t.Errorf("bash result %q", r.Content)
	}
	res := last(t, evs)
	if *res.InputTokens != 130 || *res.OutputTokens != 9 || res.Model != "gpt-4o" || *res.NumTurns != 2 {
		t.Errorf("result %+v", res)
	}
	reqs := oai.Requests()
	if reqs[0].Header.Get("Authorization") != "Bearer "+serverKey {
		t.Errorf("authorization %q", reqs[0].Header.Get("Authorization"))
	}
	if so, _ := reqs[0].Body["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options %v", reqs[0].Body["stream_options"])
	}
	msgs, _ := json.Marshal(reqs[1].Body["messages"])
	for _, want := range []string{`"role":"tool"`, `"tool_call_id":"call_2"`, `"tool_calls"`, `"arguments":"{\"command\":\"python3 x.py\"}"`} {
		if !strings.Contains(string(msgs), want) {
			t.Errorf("second request lacks %s: %s", want, msgs)
		}
	}
	noSandboxes(t, s)
}
