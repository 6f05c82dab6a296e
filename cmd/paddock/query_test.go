package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/server/servertest"
)

// TestQueryAndRunsCLI drives paddock query (text and --json) and paddock runs against a
// server on the fake driver whose model is the Anthropic double.
func TestQueryAndRunsCLI(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "Let me look.", InputTokens: 100, OutputTokens: 10, Calls: []providertest.Call{
			{ID: "t1", Name: "bash", Input: `{"command":"cat notes/todo.txt"}`},
			{ID: "t2", Name: "read_file", Input: `{"path":"missing.txt"}`},
		}},
		providertest.Turn{Text: `{"items": 2}`, InputTokens: 200, OutputTokens: 5},
		providertest.Turn{Text: "plain answer", InputTokens: 1, OutputTokens: 1},
		providertest.Turn{Text: "never"},
		providertest.Turn{Text: "still not JSON"},
	)
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	t.Setenv("ANTHROPIC_API_KEY", "sk-cli")
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(t))
	s := servertest.New(t)
	env := []string{"PADDOCK_HOST=" + s.URL, "PADDOCK_API_KEY=" + servertest.Key}

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes", "todo.txt"), []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(dir, "schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["items"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	out, errOut, code := cli(t, env, "", "query", "count my todos", "--file", "notes/todo.txt", "--output-schema", schema, "-m", "haiku")
	if code != 0 {
		t.Fatalf("query: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Let me look.\n", `▸ bash {"command":"cat notes/todo.txt"}  ✓`, "▸ read_file {\"path\":\"missing.txt\"}  ✗ ",
		"structured output:\n{\n  \"items\": 2\n}", "── claude-haiku-4-5 · 2 turns · 300 in / 15 out tokens · $0.0004"} {
		if !strings.Contains(out, want) {
			t.Errorf("query output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "sandbox ") {
		t.Errorf("stderr %q", errOut)
	}
	if msgs, _ := json.Marshal(anth.Requests()[1].Body["messages"]); !strings.Contains(string(msgs), `a\nb\n`) {
		t.Errorf("the uploaded file was not read: %s", msgs)
	}

	out, _, code = cli(t, env, "", "query", "hi", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var lastEv map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &lastEv); code != 0 || err != nil || lastEv["type"] != "result" || lastEv["content"] != "plain answer" {
		t.Fatalf("query --json: exit %d, last line %s (%v)", code, lines[len(lines)-1], err)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("not a JSON line: %q", l)
		}
	}

	// A refused query and a run ending in an error event exit 1.
	if _, errOut, code := cli(t, env, "", "query", "hi", "-m", "sonet"); code != 1 || !strings.Contains(errOut, "model") {
		t.Errorf("bad model: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli(t, env, "", "query", "hi", "--output-schema", schema); code != 1 || !strings.Contains(errOut, "STRUCTURED_OUTPUT_INVALID") {
		t.Errorf("error event: exit %d, %q", code, errOut)
	}

	out, _, code = cli(t, env, "", "runs")
	if code != 0 || !strings.Contains(out, "PROMPT") || !strings.Contains(out, "count my todos") || !strings.Contains(out, "completed") {
		t.Errorf("runs: exit %d\n%s", code, out)
	}
	out, _, code = cli(t, env, "", "runs", "--json", "-n", "2")
	var runs []struct{ Prompt, Status string }
	if err := json.Unmarshal([]byte(out), &runs); code != 0 || err != nil || len(runs) != 2 || runs[0].Status != "error" {
		t.Errorf("runs --json: exit %d, %v %+v\n%s", code, err, runs, out)
	}
}
