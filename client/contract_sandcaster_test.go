package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"testing"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/server/servertest"
)

// sandcasterDouble is the model the contract's server talks to (set before it starts).
func sandcasterDouble(t *testing.T) *providertest.Anthropic {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "Checking.", InputTokens: 10, OutputTokens: 2, Calls: []providertest.Call{
			{ID: "t1", Name: "write_file", Input: `{"path":"in.txt","content":"hi"}`},
			{ID: "t2", Name: "bash", Input: `{"command":"cat in.txt data.txt; echo warn >&2"}`},
		}},
		providertest.Turn{Text: `{"ok": true}`, InputTokens: 20, OutputTokens: 3},
		// strictEvents' run
		providertest.Turn{Thinking: "hmm", Text: "Writing.", Calls: []providertest.Call{
			{ID: "t3", Name: "write_file", Input: `{"path":"out.txt","content":"x"}`},
			{ID: "t4", Name: "bash", Input: `{"command":"echo e >&2; exit 3"}`},
		}},
		providertest.Turn{Text: `{"ok": false}`},
	)
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	t.Setenv("ANTHROPIC_API_KEY", "sk-contract")
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(t))
	return anth
}

// sandcaster runs a query with every request field the server takes, checks that every
// event decodes strictly into AgentEvent (the client's type knows every field the server
// sends) and that GET /runs lists the run as AgentRun, strictly too.
func (k *contract) sandcaster(anth *providertest.Anthropic) {
	t := k.t
	turns, timeout := 4, 60
	req := client.QueryRequest{Prompt: "check the data", Model: "sonnet", Provider: "anthropic", MaxTurns: &turns,
		Timeout: &timeout, Files: map[string]string{"data.txt": "42"}, AllowedTools: []string{"bash", "write_file"},
		OutputFormat: json.RawMessage(`{"type":"object","required":["ok"]}`), ThinkingLevel: "low",
		SandboxProvider: "e2b", APIKeys: &apitype.QueryAPIKeys{Anthropic: "sk-request"}}
	var evs []client.AgentEvent
	err := k.c.Query(k.ctx, req, func(ev client.AgentEvent) error {
		evs = append(evs, ev)
		return nil
	})
	k.call("Client.Query", err)
	strictEvents(t, k.s)
	last := evs[len(evs)-1]
	if last.Type != "result" || string(last.StructuredOutput) != `{"ok":true}` || *last.NumTurns != 2 || last.Model != "claude-sonnet-4-6" {
		t.Errorf("result %+v", last)
	}
	var sawStderr, sawFile bool
	for _, ev := range evs {
		sawStderr = sawStderr || ev.Type == "stderr" && ev.Content == "warn\n"
		sawFile = sawFile || ev.Type == "file" && strings.HasSuffix(ev.Path, "/in.txt")
	}
	if !sawStderr || !sawFile {
		t.Errorf("events %+v", evs)
	}
	if h := anth.Requests()[0].Header; h.Get("X-Api-Key") != "sk-request" && h.Get("Authorization") != "Bearer sk-request" {
		t.Errorf("the request's key did not reach the provider: %v", h)
	}

	runs, err := k.c.AgentRuns(k.ctx, 1)
	k.call("Client.AgentRuns", err)
	if len(runs) != 1 || runs[0].Prompt != "again" {
		t.Errorf("runs (newest first, limit 1) %+v", runs)
	}
	runs, _ = k.c.AgentRuns(k.ctx, 0)
	runs = runs[1:]
	if len(runs) != 1 || runs[0].Prompt != req.Prompt || runs[0].Status != "completed" || runs[0].NumTurns != 2 ||
		runs[0].FilesCount != 1 || runs[0].InputTokens != 30 || runs[0].CompletedAt == nil {
		t.Errorf("runs %+v", runs)
	}
	_, raw := k.s.Do(servertest.Request{Method: "GET", Path: "/runs"})
	var strict []client.AgentRun
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&strict); err != nil {
		t.Errorf("GET /runs has a field AgentRun lacks: %v: %s", err, raw)
	}

	// Refusals are *client.Error with Sandcaster's message.
	var cerr *client.Error
	err = k.c.Query(k.ctx, client.QueryRequest{Prompt: "x", Model: "sonet"}, func(client.AgentEvent) error { return nil })
	if !errors.As(err, &cerr) || cerr.Status != 400 || !strings.Contains(cerr.Message, "model") {
		t.Errorf("bad model: %v", err)
	}
	if _, err := k.c.AgentRuns(k.ctx, 500); !errors.As(err, &cerr) || cerr.Status != 400 || !strings.Contains(cerr.Message, "limit") {
		t.Errorf("bad limit: %v", err)
	}
}

// strictEvents runs a query (thinking, tools, a file, stderr, structured output) on the
// server's raw stream: each data line decodes into AgentEvent with unknown fields refused.
func strictEvents(t *testing.T, s *servertest.Server) {
	t.Helper()
	_, raw := s.Do(servertest.Request{Method: "POST", Path: "/query", Body: map[string]any{"prompt": "again", "thinkingLevel": "low",
		"outputFormat": map[string]any{"type": "object"}}})
	n := 0
	for _, e := range servertest.Events(raw) {
		var ev client.AgentEvent
		dec := json.NewDecoder(strings.NewReader(e.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Errorf("event has a field AgentEvent lacks: %v: %s", err, e.Data)
		}
		n++
	}
	if n < 10 || !strings.Contains(string(raw), `"structuredOutput":{"ok":false}`) {
		t.Errorf("events: %s", raw)
	}
}
