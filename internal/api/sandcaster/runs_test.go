package sandcaster_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/server/servertest"
)

// GET /runs lists finished runs newest first with their tokens and status; limit is checked.
func TestRunsList(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "one", InputTokens: 10, OutputTokens: 2},
		providertest.Turn{Status: 401, ErrorType: "authentication_error", Message: "bad key"},
	)
	s := newServer(t, anth, nil)
	query(t, s, map[string]any{"prompt": "first"})
	query(t, s, map[string]any{"prompt": "second", "files": map[string]string{"a": "b"}})
	var runs []map[string]any
	if st := s.JSON("GET", "/runs", nil, &runs); st != 200 || len(runs) != 2 {
		t.Fatalf("%d %v", st, runs)
	}
	if r := runs[0]; r["prompt"] != "second" || r["status"] != "error" || r["filesCount"] != 1.0 || !strings.Contains(r["error"].(string), "bad key") {
		t.Errorf("newest %v", r)
	}
	if r := runs[1]; r["status"] != "completed" || r["inputTokens"] != 10.0 || r["model"] != "claude-sonnet-4-6" || r["completedAt"] == nil {
		t.Errorf("oldest %v", r)
	}
	if st := s.JSON("GET", "/runs?limit=1", nil, &runs); st != 200 || len(runs) != 1 {
		t.Errorf("limit=1: %d %v", st, runs)
	}
	var e map[string]any
	if st := s.JSON("GET", "/runs?limit=0", nil, &e); st != 400 || !strings.Contains(e["error"].(string), "limit") {
		t.Errorf("limit=0: %d %v", st, e)
	}
}

// A user's runs are theirs: another user's GET /runs does not list them, an admin's does.
func TestRunsBelongToTheirUser(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "done", InputTokens: 3, OutputTokens: 1})
	s := newServer(t, anth, nil)
	keys := map[string]string{}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
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
	if resp, b := s.Do(servertest.Request{Method: "POST", Path: "/query", Body: map[string]any{"prompt": "alice's"}, Key: keys["alice@example.com"]}); resp.StatusCode != 200 {
		t.Fatalf("alice's query: %d %s", resp.StatusCode, b)
	}
	for who, want := range map[string]int{"alice@example.com": 1, "bob@example.com": 0, "": 1} {
		resp, b := s.Do(servertest.Request{Method: "GET", Path: "/runs", Key: keys[who]})
		var runs []map[string]any
		if err := json.Unmarshal(b, &runs); err != nil || resp.StatusCode != 200 || len(runs) != want {
			t.Errorf("%q lists: %d %s, want %d runs", who, resp.StatusCode, b, want)
		}
	}
}
