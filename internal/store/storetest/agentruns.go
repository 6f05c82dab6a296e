package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
)

// RunAgents is the conformance suite of agentrun.Store; newStore returns an empty store.
func RunAgents(t *testing.T, newStore func(t *testing.T) agentrun.Store) {
	t.Run("RunRoundTrip", func(t *testing.T) { testAgentRunRoundTrip(t, newStore(t)) })
	t.Run("RunList", func(t *testing.T) { testAgentRunList(t, newStore(t)) })
	t.Run("FailRunning", func(t *testing.T) { testAgentRunFailRunning(t, newStore(t)) })
	t.Run("Sessions", func(t *testing.T) { testAgentSessions(t, newStore(t)) })
}

// agentRun returns a run with every field set.
func agentRun(id, owner, session string, started time.Time) *agentrun.Run {
	done := started.Add(1500 * time.Millisecond)
	return &agentrun.Run{ID: id, Prompt: "prompt of " + id, Model: "claude-sonnet-4-6", Status: agentrun.StatusCompleted,
		StartedAt: started, CompletedAt: &done, CostUSD: 0.0123, InputTokens: 300, OutputTokens: 30, NumTurns: 2,
		DurationSecs: 1.5, Error: "none", FilesCount: 3, SessionID: session, Owner: owner, Sandbox: "sb-" + id}
}

func testAgentRunRoundTrip(t *testing.T, s agentrun.Store) {
	ctx := context.Background()
	want := agentRun("req-1", "usr_alice", "sess_1", epoch)
	if zero := zeroFields(reflect.ValueOf(*want), "Run"); len(zero) > 0 {
		t.Fatalf("fixture leaves fields unset: %v", zero)
	}
	running := *want
	running.Status, running.CompletedAt = agentrun.StatusRunning, nil
	if err := s.PutAgentRun(ctx, &running); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAgentRun(ctx, want); err != nil {
		t.Fatal(err)
	}
	want.Prompt = "changed after put" // the store keeps its own copy
	got, err := s.GetAgentRun(ctx, "req-1")
	want.Prompt = "prompt of req-1"
	if err != nil || !reflect.DeepEqual(normalizeRun(*got), normalizeRun(*want)) {
		t.Fatalf("get:\n got %+v %v\nwant %+v", got, err, want)
	}
	if evs, err := s.AgentRunEvents(ctx, "req-1"); err != nil || len(evs) != 0 {
		t.Errorf("events before any: %s %v", evs, err)
	}
	evs := []json.RawMessage{json.RawMessage(`{"type":"system","content":"a"}`), json.RawMessage(`{"type":"result","content":"b"}`)}
	if err := s.SetAgentRunEvents(ctx, "req-1", evs); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAgentRun(ctx, want); err != nil { // a later put keeps the log
		t.Fatal(err)
	}
	got2, err := s.AgentRunEvents(ctx, "req-1")
	if err != nil || len(got2) != 2 || string(got2[1]) != string(evs[1]) {
		t.Errorf("events: %s %v", got2, err)
	}
	if _, err := s.GetAgentRun(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("get unknown: %v", err)
	}
	if _, err := s.AgentRunEvents(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("events of unknown: %v", err)
	}
	if err := s.SetAgentRunEvents(ctx, "nope", evs); !errdefs.IsNotFound(err) {
		t.Errorf("set events of unknown: %v", err)
	}
}

func testAgentRunList(t *testing.T, s agentrun.Store) {
	ctx := context.Background()
	for i, owner := range []string{"alice", "bob", "alice", "alice"} {
		session := ""
		if i >= 2 {
			session = "sess_a"
		}
		if err := s.PutAgentRun(ctx, agentRun(fmt.Sprintf("r%d", i), owner, session, epoch.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f agentrun.Filter) string {
		t.Helper()
		runs, err := s.ListAgentRuns(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range runs {
			out += r.ID + " "
		}
		return out
	}
	for _, c := range []struct {
		f    agentrun.Filter
		want string
	}{
		{agentrun.Filter{}, "r3 r2 r1 r0 "},
		{agentrun.Filter{Owner: "alice"}, "r3 r2 r0 "},
		{agentrun.Filter{Owner: "alice", Limit: 2}, "r3 r2 "},
		{agentrun.Filter{Owner: "bob"}, "r1 "},
		{agentrun.Filter{Owner: "carol"}, ""},
		{agentrun.Filter{Session: "sess_a"}, "r3 r2 "},
		{agentrun.Filter{Owner: "bob", Session: "sess_a"}, ""},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.f, got, c.want)
		}
	}
}

func testAgentRunFailRunning(t *testing.T, s agentrun.Store) {
	ctx := context.Background()
	for i, status := range []string{agentrun.StatusRunning, agentrun.StatusCompleted, agentrun.StatusRunning} {
		r := agentRun(fmt.Sprintf("r%d", i), "alice", "", epoch.Add(time.Duration(i)*time.Second))
		r.Status, r.Error, r.CompletedAt = status, "", nil
		if err := s.PutAgentRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	at := epoch.Add(time.Hour)
	n, err := s.FailRunningAgentRuns(ctx, "server restarted", at)
	if err != nil || n != 2 {
		t.Fatalf("marked %d, %v", n, err)
	}
	for id, want := range map[string]string{"r0": agentrun.StatusError, "r1": agentrun.StatusCompleted, "r2": agentrun.StatusError} {
		r, err := s.GetAgentRun(ctx, id)
		if err != nil || r.Status != want {
			t.Fatalf("%s: %+v %v", id, r, err)
		}
		if want == agentrun.StatusError && (r.Error != "server restarted" || r.CompletedAt == nil || !r.CompletedAt.Equal(at) || r.Owner != "alice") {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if n, err := s.FailRunningAgentRuns(ctx, "again", at); err != nil || n != 0 {
		t.Errorf("second pass marked %d, %v", n, err)
	}
}

func testAgentSessions(t *testing.T, s agentrun.Store) {
	ctx := context.Background()
	sb := "sb-1"
	want := &agentrun.Session{ID: "sess_1", Status: agentrun.SessionActive, SandboxProvider: "e2b", SandboxID: &sb,
		CreatedAt: epoch, LastActivityAt: epoch.Add(time.Second), IdleTimeoutMs: 900000, RunsCount: 2, TotalCostUSD: 0.5,
		TotalTurns: 4, Name: "mine", EndReason: "none", Owner: "alice"}
	if zero := zeroFields(reflect.ValueOf(*want), "Session"); len(zero) > 0 {
		t.Fatalf("fixture leaves fields unset: %v", zero)
	}
	if err := s.PutAgentSession(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAgentSession(ctx, "sess_1")
	if err != nil || !reflect.DeepEqual(normalizeSession(*got), normalizeSession(*want)) {
		t.Fatalf("get:\n got %+v %v\nwant %+v", got, err, want)
	}
	*got.SandboxID = "changed"
	if again, _ := s.GetAgentSession(ctx, "sess_1"); *again.SandboxID != "sb-1" {
		t.Error("a record shares its sandbox ID with the store")
	}
	if _, err := s.GetAgentSession(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("get unknown: %v", err)
	}
	for i, c := range []struct{ owner, status string }{{"bob", agentrun.SessionRunning}, {"alice", agentrun.SessionExpired}, {"alice", agentrun.SessionInitializing}} {
		ss := agentrun.Session{ID: fmt.Sprintf("sess_%d", i+2), Status: c.status, SandboxProvider: "e2b",
			CreatedAt: epoch.Add(time.Duration(i+1) * time.Second), LastActivityAt: epoch, Owner: c.owner}
		if err := s.PutAgentSession(ctx, &ss); err != nil {
			t.Fatal(err)
		}
	}
	ended := *want
	ended.Status, ended.EndReason = agentrun.SessionEnded, "deleted"
	if err := s.PutAgentSession(ctx, &ended); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		owner string
		live  bool
		limit int
		want  string
	}{
		{"", false, 0, "sess_4 sess_3 sess_2 sess_1 "},
		{"alice", false, 0, "sess_4 sess_3 sess_1 "},
		{"alice", false, 1, "sess_4 "},
		{"", true, 0, "sess_4 sess_2 "},
		{"bob", true, 0, "sess_2 "},
	} {
		list, err := s.ListAgentSessions(ctx, c.owner, c.live, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, ss := range list {
			got += ss.ID + " "
		}
		if got != c.want {
			t.Errorf("owner %q live %v limit %d: got %q, want %q", c.owner, c.live, c.limit, got, c.want)
		}
	}
}

func normalizeRun(r agentrun.Run) agentrun.Run {
	r.StartedAt = r.StartedAt.UTC()
	if r.CompletedAt != nil {
		v := r.CompletedAt.UTC()
		r.CompletedAt = &v
	}
	return r
}

func normalizeSession(s agentrun.Session) agentrun.Session {
	s.CreatedAt, s.LastActivityAt = s.CreatedAt.UTC(), s.LastActivityAt.UTC()
	return s
}
