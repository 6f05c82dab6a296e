package sandcaster_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/server/servertest"
)

// sse posts or gets a streaming route and returns the status, the events and the raw body.
func sse(t *testing.T, s *servertest.Server, method, path, key string, body any) (int, []servertest.Event, []byte) {
	t.Helper()
	resp, raw := s.Do(servertest.Request{Method: method, Path: path, Body: body, Key: key})
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, raw
	}
	return resp.StatusCode, servertest.Events(raw), raw
}

// A session keeps its sandbox and its conversation: turn 1 writes a file, turn 2 reads it in
// the same sandbox and the model sees turn 1's messages; the session is alice's alone, and
// a deleted session's sandbox is gone and it takes no more messages.
func TestSessionKeepsSandboxAndConversation(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "Writing.", InputTokens: 10, OutputTokens: 2, Calls: []providertest.Call{
			{ID: "toolu_1", Name: "write_file", Input: `{"path":"memo.txt","content":"turn one was here"}`}}},
		providertest.Turn{Text: "Written.", InputTokens: 20, OutputTokens: 2},
		providertest.Turn{Text: "Reading.", InputTokens: 30, OutputTokens: 2, Calls: []providertest.Call{
			{ID: "toolu_2", Name: "read_file", Input: `{"path":"memo.txt"}`}}},
		providertest.Turn{Text: "It says turn one was here.", InputTokens: 40, OutputTokens: 2},
	)
	s := newServer(t, anth, nil)
	keys := userKeys(t, s, "alice@example.com", "bob@example.com")
	alice, bob := keys["alice@example.com"], keys["bob@example.com"]

	st, evs, raw := sse(t, s, "POST", "/sessions", alice, map[string]any{"prompt": "write a memo", "sessionConfig": map[string]any{"name": "memo"}})
	if st != 200 || len(evs) < 3 || evs[0].Name != "session_created" || evs[len(evs)-1].Name != "result" {
		t.Fatalf("create: %d %s", st, raw)
	}
	var created struct{ SessionID string }
	json.Unmarshal([]byte(evs[0].Data), &created)
	id := created.SessionID
	if !strings.HasPrefix(id, "sess_") || sandboxCount(t, s) != 1 {
		t.Fatalf("session %q, %d sandboxes", id, sandboxCount(t, s))
	}

	st, evs, raw = sse(t, s, "POST", "/sessions/"+id+"/messages", alice, map[string]any{"prompt": "what does the memo say?"})
	if st != 200 || evs[len(evs)-1].Name != "result" || !strings.Contains(string(raw), "turn one was here") {
		t.Fatalf("message: %d %s", st, raw)
	}
	if strings.Contains(string(raw), "sandbox_created") || sandboxCount(t, s) != 1 {
		t.Errorf("the second turn made a sandbox: %s", raw)
	}
	reqs := anth.Requests()
	third, _ := json.Marshal(reqs[2].Body["messages"])
	for _, want := range []string{"write a memo", "toolu_1", "Written.", "what does the memo say?"} {
		if !strings.Contains(string(third), want) {
			t.Errorf("turn 2's request lacks %q: %s", want, third)
		}
	}

	var detail struct {
		ID, Status, Name string
		SandboxID        *string
		RunsCount        int
		TotalTurns       int
		Runs             []struct{ Prompt, Status string }
	}
	resp, b := s.Do(servertest.Request{Method: "GET", Path: "/sessions/" + id, Key: alice})
	if err := json.Unmarshal(b, &detail); err != nil || resp.StatusCode != 200 || detail.Status != "active" || detail.RunsCount != 2 ||
		detail.TotalTurns != 4 || len(detail.Runs) != 2 || detail.Runs[0].Prompt != "write a memo" || detail.SandboxID == nil || detail.Name != "memo" {
		t.Fatalf("detail: %d %s", resp.StatusCode, b)
	}
	for who, want := range map[string]int{alice: 1, bob: 0, "": 1} {
		var list []map[string]any
		resp, b := s.Do(servertest.Request{Method: "GET", Path: "/sessions", Key: who})
		if json.Unmarshal(b, &list) != nil || resp.StatusCode != 200 || len(list) != want {
			t.Errorf("list: %d %s, want %d", resp.StatusCode, b, want)
		}
	}
	var runs []map[string]any
	if resp, b := s.Do(servertest.Request{Method: "GET", Path: "/runs", Key: alice}); json.Unmarshal(b, &runs) != nil || len(runs) != 2 || runs[0]["sessionId"] != id {
		t.Errorf("runs: %d %s", resp.StatusCode, b)
	}

	// Bob finds nothing: every route is 404 SESSION_NOT_FOUND, and alice's session lives on.
	for _, r := range []struct{ method, path string }{{"GET", "/sessions/" + id}, {"POST", "/sessions/" + id + "/messages"},
		{"DELETE", "/sessions/" + id}, {"GET", "/sessions/" + id + "/events"}} {
		resp, b := s.Do(servertest.Request{Method: r.method, Path: r.path, Key: bob, Body: map[string]any{"prompt": "x"}})
		if resp.StatusCode != 404 || !strings.Contains(string(b), "SESSION_NOT_FOUND") {
			t.Errorf("bob's %s %s: %d %s", r.method, r.path, resp.StatusCode, b)
		}
	}
	if sandboxCount(t, s) != 1 {
		t.Fatal("bob's requests touched alice's sandbox")
	}

	if resp, b := s.Do(servertest.Request{Method: "DELETE", Path: "/sessions/" + id, Key: alice}); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	noSandboxes(t, s)
	resp, b = s.Do(servertest.Request{Method: "POST", Path: "/sessions/" + id + "/messages", Key: alice, Body: map[string]any{"prompt": "again"}})
	if resp.StatusCode != 410 || !strings.Contains(string(b), "SESSION_EXPIRED") || !strings.Contains(string(b), "deleted") {
		t.Errorf("message after delete: %d %s", resp.StatusCode, b)
	}
	if resp, b := s.Do(servertest.Request{Method: "GET", Path: "/sessions/" + id, Key: alice}); !strings.Contains(string(b), `"status":"ended"`) {
		t.Errorf("after delete: %d %s", resp.StatusCode, b)
	}
}

// Bad session requests are refused before any sandbox is made.
func TestSessionBadRequests(t *testing.T) {
	s := newServer(t, providertest.NewAnthropic(t), nil)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"prompt": ""}, "prompt"},
		{map[string]any{"prompt": "x", "sessionConfig": map[string]any{"idleTimeoutSecs": 5}}, "sessionConfig.idleTimeoutSecs"},
		{map[string]any{"prompt": "x", "sessionConfig": map[string]any{"maxHistoryTurns": 0}}, "sessionConfig.maxHistoryTurns"},
		{map[string]any{"prompt": "x", "sessionConfig": map[string]any{"nope": 1}}, "nope"},
		{map[string]any{"prompt": "x", "bogus": 1}, "bogus"},
	} {
		resp, b := s.Do(servertest.Request{Method: "POST", Path: "/sessions", Body: c.body})
		if resp.StatusCode != 400 || !strings.Contains(string(b), c.field) {
			t.Errorf("%v: %d %s", c.body, resp.StatusCode, b)
		}
	}
	resp, b := s.Do(servertest.Request{Method: "POST", Path: "/sessions/sess_nope/messages", Body: map[string]any{"prompt": "x"}})
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"code":"SESSION_NOT_FOUND"`) {
		t.Errorf("unknown session: %d %s", resp.StatusCode, b)
	}
	noSandboxes(t, s)
}

// GET /sessions/{id}/events gets every event of the session's turns from the moment it is
// attached (its response headers come once it is), then session_expired when the session
// ends, and the stream ends.
func TestSessionEventsStream(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "first", InputTokens: 1, OutputTokens: 1},
		providertest.Turn{Text: "second answer", InputTokens: 1, OutputTokens: 1},
	)
	s := newServer(t, anth, nil)
	st, evs, raw := sse(t, s, "POST", "/sessions", "", map[string]any{"prompt": "hi"})
	if st != 200 {
		t.Fatalf("%d %s", st, raw)
	}
	var created struct{ SessionID string }
	json.Unmarshal([]byte(evs[0].Data), &created)
	req, _ := http.NewRequest("GET", s.URL+"/sessions/"+created.SessionID+"/events", nil)
	req.Header.Set("X-API-Key", servertest.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("attach: %v %v", resp, err)
	}
	defer resp.Body.Close()
	if st, _, raw := sse(t, s, "POST", "/sessions/"+created.SessionID+"/messages", "", map[string]any{"prompt": "again"}); st != 200 {
		t.Fatalf("message: %d %s", st, raw)
	}
	if r, b := s.Do(servertest.Request{Method: "DELETE", Path: "/sessions/" + created.SessionID}); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, b)
	}
	body, err := io.ReadAll(resp.Body) // ends when the session does
	if err != nil {
		t.Fatal(err)
	}
	got := servertest.Events(body)
	if len(got) < 3 || got[len(got)-1].Name != "session_expired" || !strings.Contains(got[len(got)-1].Data, "deleted") ||
		!strings.Contains(string(body), "second answer") || strings.Contains(string(body), `"content":"first"`) {
		t.Errorf("attached stream:\n%s", body)
	}
}
