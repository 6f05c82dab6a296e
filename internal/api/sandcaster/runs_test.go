package sandcaster_test

import (
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
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
