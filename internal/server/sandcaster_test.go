package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/config"
)

// Sandcaster's POST /query on real runc: the model (a wire-exact double) has bash write and
// read a file and print the sandbox's environment; the commands really ran in the sandbox,
// the provider key is in neither its environment nor the log, and the sandbox is gone. The
// fake-driver tests in internal/api/sandcaster cover the events, refusals and cancellation.
func TestSandcasterQueryRunc(t *testing.T) {
	const key = "sk-runc-secret-0123456789"
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "t1", Name: "bash",
			Input: `{"command":"echo $((6*7)) > answer.txt && cat answer.txt && env && id -u"}`}}},
		providertest.Turn{Calls: []providertest.Call{{ID: "t2", Name: "read_file", Input: `{"path":"answer.txt"}`}}},
		providertest.Turn{Text: "42"},
	)
	t.Setenv("ANTHROPIC_API_KEY", key)
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", "")
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	b, _ := json.Marshal(map[string]any{"prompt": "what is 6*7?"})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/query", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var results []agent.Event
	var final agent.Event
	for _, line := range strings.Split(string(raw), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev agent.Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == agent.EventToolResult {
			results = append(results, ev)
		}
		final = ev
	}
	if len(results) != 2 || final.Type != agent.EventResult || final.Content != "42" {
		t.Fatalf("events: %s", raw)
	}
	if r := results[0]; *r.IsError || !strings.Contains(r.Content, "exit code: 0") || !strings.Contains(r.Content, "42\n") ||
		!strings.Contains(r.Content, "PATH=") {
		t.Errorf("bash: %s", r.Content)
	}
	if r := results[1]; *r.IsError || r.Content != "42\n" {
		t.Errorf("read_file: %q", r.Content)
	}
	if strings.Contains(results[0].Content, key) {
		t.Error("the provider key is in the sandbox's environment")
	}
	if strings.Contains(s.logs.String(), key) {
		t.Error("the provider key is in the log")
	}
	if sbs, err := s.srv.eng.List(t.Context(), noFilter); err != nil || len(sbs) != 0 {
		t.Errorf("sandboxes left: %d (%v)", len(sbs), err)
	}
}

// A Sandcaster session on real runc keeps its sandbox and conversation across two turns: a
// file written in turn 1 is read in turn 2, and turn 2's provider request carries turn 1's
// messages; deleting the session deletes the sandbox.
func TestSandcasterSessionRunc(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "t1", Name: "bash", Input: `{"command":"echo kept-across-turns > memo.txt"}`}}},
		providertest.Turn{Text: "Saved."},
		providertest.Turn{Calls: []providertest.Call{{ID: "t2", Name: "read_file", Input: `{"path":"memo.txt"}`}}},
		providertest.Turn{Text: "It says kept-across-turns."},
	)
	t.Setenv("ANTHROPIC_API_KEY", "sk-runc-session-0123456789")
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", "")
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	post := func(method, path string, body any) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, s.url+path, rd)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	st, raw := post("POST", "/sessions", map[string]any{"prompt": "save a memo"})
	if st != 200 || !strings.Contains(raw, "event: session_created") || !strings.Contains(raw, "event: result") {
		t.Fatalf("create: %d %s", st, raw)
	}
	_, after, _ := strings.Cut(raw, `"sessionId":"`)
	id, _, _ := strings.Cut(after, `"`)
	st, raw = post("POST", "/sessions/"+id+"/messages", map[string]any{"prompt": "what does the memo say?"})
	if st != 200 || !strings.Contains(raw, `"content":"kept-across-turns\n"`) || strings.Contains(raw, "sandbox_created") {
		t.Fatalf("message: %d %s", st, raw)
	}
	reqs := anth.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d provider requests", len(reqs))
	}
	third, _ := json.Marshal(reqs[2].Body["messages"])
	for _, want := range []string{"save a memo", `"tool_use_id":"t1"`, "Saved.", "what does the memo say?"} {
		if !strings.Contains(string(third), want) {
			t.Errorf("turn 2's request lacks %s: %s", want, third)
		}
	}
	if sbs, err := s.srv.eng.List(t.Context(), noFilter); err != nil || len(sbs) != 1 {
		t.Fatalf("sandboxes during the session: %d (%v)", len(sbs), err)
	}
	if st, raw := post("DELETE", "/sessions/"+id, nil); st != 204 {
		t.Fatalf("delete: %d %s", st, raw)
	}
	if sbs, err := s.srv.eng.List(t.Context(), noFilter); err != nil || len(sbs) != 0 {
		t.Errorf("sandboxes left: %d (%v)", len(sbs), err)
	}
}
