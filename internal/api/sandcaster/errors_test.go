package sandcaster_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/server/servertest"
)

// Bad requests are refused with 400 naming the field, before any sandbox or provider call.
func TestQueryBadRequests(t *testing.T) {
	anth := providertest.NewAnthropic(t)
	s := newServer(t, anth, nil)
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"missing prompt", map[string]any{"model": "sonnet"}, "prompt"},
		{"empty prompt", map[string]any{"prompt": "  "}, "prompt"},
		{"unknown field", map[string]any{"prompt": "x", "temperature": 1}, "temperature"},
		{"unknown apiKeys field", map[string]any{"prompt": "x", "apiKeys": map[string]any{"gemini": "k"}}, "gemini"},
		{"timeout low", map[string]any{"prompt": "x", "timeout": 4}, "timeout"},
		{"timeout high", map[string]any{"prompt": "x", "timeout": 3601}, "timeout"},
		{"timeout type", map[string]any{"prompt": "x", "timeout": "60"}, "timeout"},
		{"maxTurns", map[string]any{"prompt": "x", "maxTurns": 0}, "maxTurns"},
		{"absolute file", map[string]any{"prompt": "x", "files": map[string]string{"/etc/passwd": "x"}}, "files"},
		{"traversal", map[string]any{"prompt": "x", "files": map[string]string{"a/../../b": "x"}}, "files"},
		{"duplicate", map[string]any{"prompt": "x", "files": map[string]string{"a.txt": "1", "./a.txt": "2"}}, "files"},
		{"unknown tool", map[string]any{"prompt": "x", "allowedTools": []string{"bash", "rm_rf"}}, "allowedTools"},
		{"unknown alias", map[string]any{"prompt": "x", "model": "sonet"}, "model"},
		{"provider", map[string]any{"prompt": "x", "provider": "bedrock"}, "provider"},
		{"thinkingLevel", map[string]any{"prompt": "x", "thinkingLevel": "max"}, "thinkingLevel"},
		{"outputFormat type", map[string]any{"prompt": "x", "outputFormat": map[string]any{"type": "objekt"}}, "outputFormat"},
		{"outputFormat required", map[string]any{"prompt": "x", "outputFormat": map[string]any{"required": "a"}}, "outputFormat"},
		{"outputFormat pattern", map[string]any{"prompt": "x", "outputFormat": map[string]any{"properties": map[string]any{"a": map[string]any{"pattern": "(("}}}}, "outputFormat"},
		{"outputFormat ref", map[string]any{"prompt": "x", "outputFormat": map[string]any{"$ref": "#/nope"}}, "outputFormat"},
		{"outputFormat wrapper", map[string]any{"prompt": "x", "outputFormat": map[string]any{"type": "json_schema"}}, "outputFormat"},
		{"allowedSkills", map[string]any{"prompt": "x", "allowedSkills": []string{"a"}}, "allowedSkills"},
		{"template", map[string]any{"prompt": "x", "sandboxProvider": "nope"}, "sandboxProvider"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, raw := query(t, s, c.body)
			var e struct {
				Error   string `json:"error"`
				Details []struct {
					Path []string `json:"path"`
				} `json:"details"`
			}
			servertest.Decode(t, raw, &e)
			if status != 400 || len(e.Details) != 1 || e.Details[0].Path[0] != c.field || !strings.Contains(e.Error, c.field) {
				t.Fatalf("%d %s", status, raw)
			}
		})
	}
	if n := len(anth.Requests()); n != 0 {
		t.Errorf("%d provider requests", n)
	}
	noSandboxes(t, s)

	// No key for the model's provider: 503 saying what to set.
	status, _, raw := query(t, s, map[string]any{"prompt": "x", "model": "gpt-4o"})
	if status != 503 || !strings.Contains(string(raw), "OPENAI_API_KEY") || !strings.Contains(string(raw), "apiKeys.openai") {
		t.Fatalf("%d %s", status, raw)
	}
}

// allowedTools narrows what the model is offered; a call outside it is refused to the model.
func TestQueryAllowedTools(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "t1", Name: "bash", Input: `{"command":"touch /tmp/should-not-exist"}`}}},
		providertest.Turn{Text: "ok"},
	)
	s := newServer(t, anth, nil)
	_, evs, _ := query(t, s, map[string]any{"prompt": "x", "allowedTools": []string{"read_file"}})
	tools, _ := anth.Requests()[0].Body["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "read_file" {
		t.Fatalf("tools offered %v", tools)
	}
	for _, e := range evs {
		if e.Type == "tool_result" && (!*e.IsError || !strings.Contains(e.Content, "not allowed")) {
			t.Errorf("tool result %+v", e)
		}
	}
	if last(t, evs).Type != "result" {
		t.Errorf("events %s", kinds(evs))
	}
}

// maxTurns stops the loop: a warning, then a result with subtype error_max_turns.
func TestQueryMaxTurns(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "t1", Name: "list_files", Input: `{}`}}},
	)
	s := newServer(t, anth, nil)
	_, evs, _ := query(t, s, map[string]any{"prompt": "x", "maxTurns": 1})
	if got := kinds(evs); !strings.HasSuffix(got, "tool_result:list_files warning result/error_max_turns") {
		t.Fatalf("events %s", got)
	}
	noSandboxes(t, s)
}

// A 429 is retried by the SDK; a 401 ends the run with an error event carrying the
// provider's message; an overloaded error mid-stream too. The request's own key is used.
func TestQueryProviderErrors(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Status: 429, ErrorType: "rate_limit_error", Message: "slow down", RetryAfter: "10"},
		providertest.Turn{Text: "fine"},
		providertest.Turn{Status: 401, ErrorType: "authentication_error", Message: "invalid x-api-key"},
		providertest.Turn{Text: "partial answer", StreamError: "overloaded_error"},
	)
	s := newServer(t, anth, nil)
	_, evs, _ := query(t, s, map[string]any{"prompt": "x", "apiKeys": map[string]string{"anthropic": "sk-request-key"}})
	if r := last(t, evs); r.Type != "result" || r.Content != "fine" {
		t.Fatalf("after a 429: %s", kinds(evs))
	}
	reqs := anth.Requests()
	if h := reqs[1].Header; h.Get("X-Api-Key") != "sk-request-key" && h.Get("Authorization") != "Bearer sk-request-key" {
		t.Errorf("the request's key was not used: %v", h)
	}
	_, evs, _ = query(t, s, map[string]any{"prompt": "x"})
	if e := last(t, evs); e.Type != "error" || e.Code != "PROVIDER_ERROR" || !strings.Contains(e.Content, "invalid x-api-key") ||
		!strings.Contains(e.Content, "401") || e.Hint == "" {
		t.Fatalf("401: %+v", e)
	}
	_, evs, _ = query(t, s, map[string]any{"prompt": "x"})
	if e := last(t, evs); e.Type != "error" || e.Code != "PROVIDER_ERROR" || !strings.Contains(e.Content, "overloaded_error") {
		t.Fatalf("mid-stream error: %s %+v", kinds(evs), e)
	}
	noSandboxes(t, s)
	if strings.Contains(s.Logs.String(), "sk-request-key") {
		t.Error("the request's key is in the log")
	}
}

// A client that goes away mid-run cancels the model's stream and the sandbox is deleted.
func TestQueryDisconnectCancels(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "a long answer", Hold: true})
	s := newServer(t, anth, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, _ := json.Marshal(map[string]any{"prompt": "x"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/query", bytes.NewReader(b))
	req.Header.Set("X-API-Key", servertest.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"subtype":"delta"`) {
			break // the model is streaming: the sandbox exists
		}
	}
	cancel()
	<-anth.Gone
	servertest.Eventually(t, "the run's sandbox deleted", func() bool {
		return sandboxCount(t, s) == 0
	})
}
