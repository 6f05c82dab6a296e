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

// Skills from the config's skillsDir (relative to the config file) and from a request's
// extraSkills are uploaded into the workspace and listed in the system prompt with their
// descriptions; allowedSkills narrows them, and names no skill is refused.
func TestQuerySkills(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"review/SKILL.md": "---\nname: code-review\ndescription: \"How we review Go code\"\n---\nCheck errors are wrapped.\n",
		"style/SKILL.md":  "Prefer short names.\n",
		"notes/README.md": "not a skill",
	} {
		p := filepath.Join(dir, "skills", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "sandcaster.json")
	if err := os.WriteFile(cfgPath, []byte(`{"skillsDir": "skills"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Calls: []providertest.Call{{ID: "t1", Name: "read_file", Input: `{"path":".skills/code-review/SKILL.md"}`},
			{ID: "t2", Name: "list_files", Input: `{"path":".skills"}`}}},
		providertest.Turn{Text: "reviewed"},
	)
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	t.Setenv("ANTHROPIC_API_KEY", serverKey)
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(t))
	s := servertest.New(t, func(c *config.Config) { c.SandcasterConfig = cfgPath })

	status, evs, raw := query(t, s, map[string]any{"prompt": "review", "allowedSkills": []string{"code-review", "mine"},
		"extraSkills": map[string]string{"mine": "---\ndescription: my own\n---\nbody", "unused": "x"}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	rs := toolResults(evs)
	if len(rs) != 2 || !strings.Contains(rs[0].Content, "Check errors are wrapped.") || rs[1].Content != "code-review/\nmine/" {
		t.Fatalf("tool results %+v", rs)
	}
	system := mustJSON(t, anth.Requests()[0].Body["system"])
	for _, want := range []string{"code-review (", "/.skills/code-review/SKILL.md): How we review Go code", "- mine (", ": my own"} {
		if !strings.Contains(system, want) {
			t.Errorf("system prompt lacks %q: %s", want, system)
		}
	}
	if strings.Contains(system, "style") || strings.Contains(system, "unused") {
		t.Errorf("system prompt lists a skill allowedSkills left out: %s", system)
	}

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"prompt": "x", "allowedSkills": []string{"nope"}}, "allowedSkills"},
		{map[string]any{"prompt": "x", "extraSkills": map[string]string{"bad name": "x"}}, "extraSkills"},
	} {
		if status, _, raw := query(t, s, c.body); status != 400 || !strings.Contains(string(raw), c.field) {
			t.Errorf("%v: %d %s", c.body, status, raw)
		}
	}
}

// A skillsDir that is missing or holds a bad skill name fails the config.
func TestLoadConfigSkillsDir(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "sandcaster.json")
	if err := os.WriteFile(cfgPath, []byte(`{"skillsDir": "nowhere"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sandcaster.LoadConfig(cfgPath); err == nil || !strings.Contains(err.Error(), "skillsDir") {
		t.Errorf("missing dir: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "s", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s", "x", "SKILL.md"), []byte("---\nname: two words\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(`{"skillsDir": "s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sandcaster.LoadConfig(cfgPath); err == nil || !strings.Contains(err.Error(), "two words") {
		t.Errorf("bad name: %v", err)
	}
}
