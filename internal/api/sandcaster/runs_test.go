package sandcaster_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/store/sqlite"
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
	keys := userKeys(t, s, "alice@example.com", "bob@example.com")
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

// GET /runs/{id} answers the run and the events it streamed, in order; another user's run
// and an unknown ID are 404 in the surface's shape, an admin sees every run.
func TestRunDetail(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "hi there", InputTokens: 5, OutputTokens: 2})
	s := newServer(t, anth, nil)
	keys := userKeys(t, s, "alice@example.com", "bob@example.com")
	resp, raw := s.Do(servertest.Request{Method: "POST", Path: "/query", Body: map[string]any{"prompt": "say hi"}, Key: keys["alice@example.com"]})
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("query: %d %q %s", resp.StatusCode, id, raw)
	}
	streamed := servertest.Events(raw)
	for _, who := range []string{"alice@example.com", ""} {
		resp, b := s.Do(servertest.Request{Method: "GET", Path: "/runs/" + id, Key: keys[who]})
		var got struct {
			ID, Status, Prompt string
			InputTokens        int64
			Events             []json.RawMessage
		}
		if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%q: %d %s", who, resp.StatusCode, b)
		}
		if got.ID != id || got.Status != "completed" || got.Prompt != "say hi" || got.InputTokens != 5 || len(got.Events) != len(streamed) {
			t.Fatalf("%q: %+v (%d events streamed)", who, got, len(streamed))
		}
		for i, e := range streamed {
			if string(got.Events[i]) != e.Data {
				t.Errorf("event %d: stored %s, streamed %s", i, got.Events[i], e.Data)
			}
		}
	}
	for _, c := range []struct{ path, key string }{{"/runs/" + id, keys["bob@example.com"]}, {"/runs/nope", ""}} {
		resp, b := s.Do(servertest.Request{Method: "GET", Path: c.path, Key: c.key})
		var e map[string]any
		if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != 404 || e["error"] == nil {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, b)
		}
	}
}

// Runs are in the store: a server reopened on the same data dir lists them, and a run the
// old server left running is an error ("server restarted").
func TestRunsSurviveRestart(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "done", InputTokens: 3, OutputTokens: 1})
	s := newServer(t, anth, nil)
	if st, _, raw := query(t, s, map[string]any{"prompt": "before restart"}); st != 200 {
		t.Fatalf("%d %s", st, raw)
	}
	s.Srv.Close(context.Background())
	db, err := sqlite.Open(context.Background(), filepath.Join(s.DataDir, "paddock.db"))
	if err != nil {
		t.Fatal(err)
	}
	cut := &agentrun.Run{ID: "req-cut", Prompt: "cut short", Status: agentrun.StatusRunning, StartedAt: time.Now().UTC()}
	if err := db.PutAgentRun(context.Background(), cut); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s2 := servertest.New(t, func(c *config.Config) { c.DataDir = s.DataDir })
	var runs []map[string]any
	if st := s2.JSON("GET", "/runs", nil, &runs); st != 200 || len(runs) != 2 {
		t.Fatalf("%d %v", st, runs)
	}
	if r := runs[0]; r["id"] != "req-cut" || r["status"] != "error" || r["error"] != "server restarted" || r["completedAt"] == nil {
		t.Errorf("cut-short run %v", r)
	}
	if r := runs[1]; r["prompt"] != "before restart" || r["status"] != "completed" || r["inputTokens"] != 3.0 {
		t.Errorf("finished run %v", r)
	}
}
