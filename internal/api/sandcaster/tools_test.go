package sandcaster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/api/sandcaster"
	"github.com/paddock/paddock/internal/audit"
)

// toolResults are a run's tool_result events, in order.
func toolResults(evs []agent.Event) []agent.Event {
	var out []agent.Event
	for _, e := range evs {
		if e.Type == agent.EventToolResult {
			out = append(out, e)
		}
	}
	return out
}

// run_code keeps a python interpreter between two calls (and bash's apart from it); a
// cell's exception is an error result; every call is audited.
func TestQueryRunCodeKeepsState(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{
			{ID: "t1", Name: "run_code", Input: `{"code":"import math\nx = 6 * 7\nprint('set')"}`},
			{ID: "t2", Name: "run_code", Input: `{"language":"python","code":"x + math.floor(0.5)"}`},
			{ID: "t3", Name: "run_code", Input: `{"language":"bash","code":"Y=5; echo bash-$Y"}`},
			{ID: "t4", Name: "run_code", Input: `{"language":"bash","code":"echo again-$Y"}`},
			{ID: "t5", Name: "run_code", Input: `{"code":"1/0"}`},
			{ID: "t6", Name: "run_code", Input: `{"language":"cobol","code":"x"}`},
		}},
		providertest.Turn{Text: "42."},
	)
	s := newServer(t, anth, nil)
	status, evs, raw := query(t, s, map[string]any{"prompt": "compute"})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	rs := toolResults(evs)
	if len(rs) != 6 {
		t.Fatalf("%d tool results: %s", len(rs), kinds(evs))
	}
	checks := []struct {
		want  string
		isErr bool
	}{{"set", false}, {"result:\n42", false}, {"bash-5", false}, {"again-5", false}, {"ZeroDivisionError", true}, {"unsupported language", true}}
	for i, c := range checks {
		if !strings.Contains(rs[i].Content, c.want) || *rs[i].IsError != c.isErr {
			t.Errorf("call %d: %q (isError %v), want %q (%v)", i+1, rs[i].Content, *rs[i].IsError, c.want, c.isErr)
		}
	}
	if last(t, evs).Type != "result" {
		t.Errorf("last event %+v", last(t, evs))
	}
	evts, err := s.Srv.Engine().Events.ListEvents(context.Background(), audit.Filter{Type: sandcaster.AuditToolCall})
	if err != nil {
		t.Fatal(err)
	}
	if len(evts) != 6 || evts[0].Details["tool"] != "run_code" || evts[4].Details["is_error"] != true {
		t.Errorf("audit %+v", evts)
	}
	noSandboxes(t, s)
}

// web_fetch runs in the sandbox (here the fake driver's, on the host's loopback): it gives
// the status, the content type and the body, cut at the cap; a 404 and a refused URL are
// errors the model sees.
func TestQueryWebFetch(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hello":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "hello from the web")
		case "/big":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte(strings.Repeat("z", agent.FetchCap*3)))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{
			{ID: "t1", Name: "web_fetch", Input: `{"url":"` + site.URL + `/hello"}`},
			{ID: "t2", Name: "web_fetch", Input: `{"url":"` + site.URL + `/big"}`},
			{ID: "t3", Name: "web_fetch", Input: `{"url":"` + site.URL + `/missing"}`},
			{ID: "t4", Name: "web_fetch", Input: `{"url":"file:///etc/passwd"}`},
			{ID: "t5", Name: "web_fetch", Input: `{"url":"http://x/ ; rm -rf /"}`},
		}},
		providertest.Turn{Text: "fetched"},
	)
	s := newServer(t, anth, nil)
	status, evs, raw := query(t, s, map[string]any{"prompt": "fetch", "allowedTools": []string{"web_fetch"}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	rs := toolResults(evs)
	if len(rs) != 5 {
		t.Fatalf("%d tool results: %s", len(rs), kinds(evs))
	}
	if c := rs[0].Content; *rs[0].IsError || !strings.Contains(c, "status: 200") || !strings.Contains(c, "content-type: text/plain") ||
		!strings.HasSuffix(c, "hello from the web") {
		t.Errorf("hello: %q", c)
	}
	if c := rs[1].Content; *rs[1].IsError || !strings.Contains(c, fmt.Sprintf("(body cut at %d bytes)", agent.FetchCap)) ||
		strings.Count(c, "z") != agent.FetchCap {
		t.Errorf("big: error %v, %d z, tail %q", *rs[1].IsError, strings.Count(c, "z"), c[len(c)-40:])
	}
	if c := rs[2].Content; !*rs[2].IsError || !strings.Contains(c, "status: 404") {
		t.Errorf("missing: %q", c)
	}
	if c := rs[3].Content; !*rs[3].IsError || !strings.Contains(c, "only http and https") {
		t.Errorf("file URL: %q", c)
	}
	if c := rs[4].Content; !*rs[4].IsError || !strings.Contains(c, "spaces") {
		t.Errorf("spaced URL: %q", c)
	}
	if tools, _ := anth.Requests()[0].Body["tools"].([]any); len(tools) != 1 {
		t.Errorf("tools offered: %v", tools)
	}
	noSandboxes(t, s)
}
