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
