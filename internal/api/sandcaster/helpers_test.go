package sandcaster_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/server/servertest"
)

// serverKey is the provider key the server has; it must never reach a sandbox or the logs.
const serverKey = "sk-server-secret-0123456789"

// newServer starts a fake-driver server whose providers are the doubles (nil = none) and
// whose agent workspace is a temporary directory.
func newServer(t *testing.T, anth *providertest.Anthropic, oai *providertest.OpenAI) *servertest.Server {
	t.Helper()
	for _, v := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	if anth != nil {
		t.Setenv("ANTHROPIC_API_KEY", serverKey)
		t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	}
	if oai != nil {
		t.Setenv("OPENAI_API_KEY", serverKey)
		t.Setenv("OPENAI_BASE_URL", oai.URL()+"/v1")
	}
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(t))
	return servertest.New(t)
}

// query posts body to /query and returns the status and the events (or the error body).
func query(t *testing.T, s *servertest.Server, body any) (int, []agent.Event, []byte) {
	t.Helper()
	resp, raw := s.Do(servertest.Request{Method: http.MethodPost, Path: "/query", Body: body})
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, raw
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var evs []agent.Event
	for _, e := range servertest.Events(raw) {
		var ev agent.Event
		if err := json.Unmarshal([]byte(e.Data), &ev); err != nil {
			t.Fatalf("event %s: %v", e.Data, err)
		}
		if ev.Type != e.Name {
			t.Fatalf("event name %q carries type %q", e.Name, ev.Type)
		}
		evs = append(evs, ev)
	}
	return resp.StatusCode, evs, raw
}

// kinds names the events, with their subtype or tool: "assistant/delta", "tool_use:bash".
func kinds(evs []agent.Event) string {
	var out []string
	for _, e := range evs {
		k := e.Type
		switch {
		case e.Subtype != "":
			k += "/" + e.Subtype
		case e.ToolName != "":
			k += ":" + e.ToolName
		}
		out = append(out, k)
	}
	return strings.Join(out, " ")
}

func last(t *testing.T, evs []agent.Event) agent.Event {
	t.Helper()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	return evs[len(evs)-1]
}

func noSandboxes(t *testing.T, s *servertest.Server) {
	t.Helper()
	sbs, err := s.Srv.Engine().List(context.Background(), sandbox.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sbs) != 0 {
		t.Fatalf("%d sandboxes left, first %s", len(sbs), sbs[0].Name)
	}
}

func sandboxCount(t *testing.T, s *servertest.Server) int {
	t.Helper()
	sbs, err := s.Srv.Engine().List(context.Background(), sandbox.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(sbs)
}

// userKeys creates a user per email (POST /users) with an API key each and returns the keys
// by email; keys[""] is "", the test key of the admin.
func userKeys(t *testing.T, s *servertest.Server, emails ...string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, email := range emails {
		if resp, b := s.Do(servertest.Request{Method: "POST", Path: "/users", Body: map[string]any{"email": email}}); resp.StatusCode != 201 {
			t.Fatalf("create %s: %d %s", email, resp.StatusCode, b)
		}
		resp, b := s.Do(servertest.Request{Method: "POST", Path: "/users/" + email + "/keys", Body: map[string]any{}})
		var env struct{ Data struct{ Key string } }
		if err := json.Unmarshal(b, &env); err != nil || resp.StatusCode != 201 || env.Data.Key == "" {
			t.Fatalf("key of %s: %d %s", email, resp.StatusCode, b)
		}
		keys[email] = env.Data.Key
	}
	return keys
}
