package sandcaster_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/api/sandcaster"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
)

// A config that a request would be refused for fails at start-up, naming the key.
func TestParseConfigRefuses(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"unknown key", `{"modle": "sonnet"}`, `unknown key "modle"`},
		{"templateSkills", `{"templateSkills": true}`, "templateSkills: not supported"},
		{"agents", `{"agents": {}}`, "agents: not supported"},
		{"timeout", `{"timeout": 2}`, "timeout"},
		{"timeout type", `{"timeout": "60"}`, "timeout: want int"},
		{"maxTurns", `{"maxTurns": 0}`, "maxTurns"},
		{"model", `{"model": "sonet"}`, "model: unknown model alias"},
		{"provider", `{"provider": "vertex"}`, "provider"},
		{"tool", `{"allowedTools": ["Read"]}`, "allowedTools"},
		{"thinking", `{"thinkingLevel": "max"}`, "thinkingLevel"},
		{"schema", `{"outputFormat": {"type": "objekt"}}`, "outputFormat"},
		{"preset", `{"systemPrompt": {"preset": "claude_code"}}`, "systemPrompt: give a string"},
		{"price", `{"prices": {"m-1": {"input": -1, "output": 1}}}`, "prices: m-1"},
		{"not object", `[]`, "JSON object"},
		{"trailing", `{} {}`, "after top-level value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sandcaster.ParseConfig([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	if _, err := sandcaster.ParseConfig([]byte(`{"model": "fast", "models": {"fast": "gpt-4o-mini"}}`)); err != nil {
		t.Errorf("a config alias: %v", err)
	}
}

// The config's defaults apply to a query that leaves them out (system prompt, model alias
// from its own table, price, maxTurns, allowedTools), and a request's fields win.
func TestQueryUsesConfig(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "sandcaster.json")
	if err := os.WriteFile(cfgPath, []byte(`{
		"systemPrompt": "You review code politely.",
		"model": "fast",
		"models": {"fast": "gpt-4o-mini", "Big": "gpt-5"},
		"prices": {"gpt-4o-mini": {"input": 1000, "output": 2000}},
		"maxTurns": 1,
		"allowedTools": ["bash", "read_file"]
	}`), 0o600); err != nil {
		t.Fatal(err)
	}
	oai := providertest.NewOpenAI(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "c1", Name: "bash", Input: `{"command":"true"}`}}, InputTokens: 10, OutputTokens: 1},
		providertest.Turn{Text: "done", InputTokens: 10, OutputTokens: 1},
	)
	for _, v := range []string{"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	t.Setenv("OPENAI_API_KEY", serverKey)
	t.Setenv("OPENAI_BASE_URL", oai.URL()+"/v1")
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(t))
	s := servertest.New(t, func(c *config.Config) { c.SandcasterConfig = cfgPath })

	status, evs, raw := query(t, s, map[string]any{"prompt": "review"})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	res := last(t, evs)
	if res.Subtype != "error_max_turns" || res.Model != "gpt-4o-mini" || *res.CostUSD != (10*1000+1*2000)/1e6 {
		t.Errorf("result %+v", res)
	}
	req := oai.Requests()[0]
	msgs := mustJSON(t, req.Body["messages"])
	if !strings.Contains(msgs, "Your workspace is") || !strings.Contains(msgs, "You review code politely.") {
		t.Errorf("system prompt: %s", msgs)
	}
	if tools, _ := req.Body["tools"].([]any); len(tools) != 2 {
		t.Errorf("tools offered: %d", len(tools))
	}

	// The request's model (an alias of the config's table, case-insensitive) and maxTurns win.
	status, evs, raw = query(t, s, map[string]any{"prompt": "review", "model": "big", "maxTurns": 3})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	if res := last(t, evs); res.Subtype != "success" || res.Model != "gpt-5" {
		t.Errorf("result %+v", res)
	}
}

// A bad sandcaster.json (which fails the server's start-up) is named with its key and path.
func TestFindConfigNamesFileAndKey(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "sandcaster.json")
	if err := os.WriteFile(cfgPath, []byte(`{"templateSkills": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.SandcasterConfig = cfgPath
	_, err := sandcaster.FindConfig(cfg.SandcasterConfig)
	if err == nil || !strings.Contains(err.Error(), "templateSkills") || !strings.Contains(err.Error(), cfgPath) {
		t.Fatalf("err %v", err)
	}
}

// Without a path, sandcaster.json in the working directory is the config; without one there,
// there is none.
func TestFindConfigWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if c, err := sandcaster.FindConfig(""); c != nil || err != nil {
		t.Fatalf("no file: %v %v", c, err)
	}
	if err := os.WriteFile(filepath.Join(dir, sandcaster.ConfigFile), []byte(`{"model": "opus"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := sandcaster.FindConfig(""); err != nil || c == nil || c.Model != "opus" {
		t.Fatalf("%+v %v", c, err)
	}
}
