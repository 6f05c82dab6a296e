package server

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/testenv"
)

// withTemplates points the server at a templates file holding content.
func withTemplates(t testing.TB, content string) (func(*config.Config), string) {
	t.Helper()
	path := filepath.Join(testenv.TempDir(t), "templates.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.TemplatesFile = path }, path
}

// until polls f every 20 ms for up to 30 s, failing with what when it never holds.
func until(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// exec runs a shell command in a sandbox and returns its stdout.
func (s *testServer) exec(sandbox, shell string) string {
	s.t.Helper()
	code, env := s.call("POST", "/sandboxes/"+sandbox+"/exec", map[string]any{"command": []string{"/bin/sh", "-c", shell}}, "")
	if code != 200 {
		s.t.Fatalf("exec %q in %s: %d %s", shell, sandbox, code, env.Error)
	}
	return data[execView](s.t, env).Stdout
}

type execView struct {
	Stdout   string `json:"stdout"`
	ExitCode int    `json:"exit_code"`
}

const webTemplate = `[{"name": "web", "image": "base", "description": "a web app", "port": 8080,
  "envVars": {"GREETING": "hello", "MODE": "template"},
  "resources": {"cpu": "100m", "cpuLimit": "500m", "memoryLimit": "256Mi"},
  "startCmd": "echo \"$GREETING $MODE\" > /tmp/started; exec python3 -m http.server 8080 --bind 127.0.0.1"}]`

// TestSandboxFromTemplate creates sandboxes from a template through the native API: the
// template's env (request wins), limits, port and start command are seen inside.
func TestSandboxFromTemplate(t *testing.T) {
	mutate, _ := withTemplates(t, webTemplate)
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 }, mutate)

	code, env := s.call("GET", "/templates", nil, "")
	list := data[[]map[string]any](t, env)
	sources := map[string]any{}
	for _, tp := range list {
		sources[tp["name"].(string)] = tp["source"]
	}
	if code != 200 || sources["web"] != "file" || sources["base"] != "builtin" || sources["code-interpreter-v1"] != "builtin" {
		t.Fatalf("GET /templates: %d %v", code, sources)
	}

	code, env = s.call("POST", "/sandboxes", map[string]any{"name": "t1", "template": "web", "env": map[string]string{"MODE": "request"}}, "")
	if code != 201 {
		t.Fatalf("create from template: %d %s", code, env.Error)
	}
	sb := data[map[string]any](t, env)
	if sb["template"] != "web" || sb["port"] != 8080.0 || sb["memory_mb"] != 256.0 || sb["vcpus"] != 0.5 || sb["image"] != "base" {
		t.Errorf("sandbox from template: %v", sb)
	}
	until(t, "the start command's file", func() bool { return s.exec("t1", "cat /tmp/started 2>/dev/null") == "hello request\n" })
	probe := `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8080/").status)' 2>/dev/null`
	until(t, "the start command serving on the template's port", func() bool { return s.exec("t1", probe) == "200\n" })
	// Stop ends the server with the container; start runs the start command again.
	for _, op := range []string{"stop", "start"} {
		if code, env := s.call("POST", "/sandboxes/t1/"+op, nil, ""); code != 200 {
			t.Fatalf("%s: %d %s", op, code, env.Error)
		}
	}
	until(t, "the start command serving again after a stop and start", func() bool { return s.exec("t1", probe) == "200\n" })

	// /run takes the template too.
	code, env = s.call("POST", "/run", map[string]any{"template": "web", "command": []string{"/bin/sh", "-c", "echo $GREETING"}}, "")
	if out := data[execView](t, env).Stdout; code != 200 || out != "hello\n" {
		t.Errorf("/run with template: %d %q %s", code, out, env.Error)
	}

	code, env = s.call("POST", "/sandboxes", map[string]any{"name": "t2", "template": "nope"}, "")
	if code != 404 || !strings.Contains(env.Error, `template "nope" not found`) {
		t.Errorf("unknown template: %d %q", code, env.Error)
	}

	// A start command that fails is recorded, and the sandbox stays.
	code, env = s.call("PUT", "/templates", []map[string]any{
		{"name": "web", "image": "base", "description": "a web app"},
		{"name": "broken", "image": "base", "description": "fails", "startCmd": "echo oops >&2; exit 7"},
	}, "")
	if code != 200 {
		t.Fatalf("PUT /templates: %d %s", code, env.Error)
	}
	if code, env = s.call("POST", "/sandboxes", map[string]any{"name": "t3", "template": "broken"}, ""); code != 201 {
		t.Fatalf("create from broken: %d %s", code, env.Error)
	}
	var failed audit.Event
	until(t, "a start_command_failed event", func() bool {
		_, env := s.call("GET", "/sandboxes/t3/logs", nil, "")
		for _, ev := range data[[]audit.Event](t, env) {
			if ev.Type == audit.StartCommandFailed {
				failed = ev
				return true
			}
		}
		return false
	})
	if failed.Details["exit_code"] != 7.0 || !strings.Contains(failed.Details["output"].(string), "oops") {
		t.Errorf("start_command_failed details: %v", failed.Details)
	}
	if _, env = s.call("GET", "/sandboxes/t3", nil, ""); data[map[string]any](t, env)["status"] != "running" {
		t.Errorf("sandbox after its start command failed: %s", env.Data)
	}

	// A bad list is refused as a whole, naming the template and field.
	code, env = s.call("PUT", "/templates", []map[string]any{
		{"name": "ok", "image": "base", "description": "fine"},
		{"name": "x", "image": "base", "description": "d", "resources": map[string]string{"memoryLimit": "lots"}},
	}, "")
	if code != 400 || !strings.Contains(env.Error, `template "x": resources.memoryLimit`) {
		t.Errorf("PUT a bad template: %d %q", code, env.Error)
	}
	if code, _ = s.call("GET", "/templates/ok", nil, ""); code != 404 {
		t.Errorf("a refused list was partly applied: GET /templates/ok = %d", code)
	}
}

// TestTemplatePoolsAndE2B: a template's pool follows the templates file, and the E2B
// templateID resolves through the templates.
func TestTemplatePoolsAndE2B(t *testing.T) {
	mutate, path := withTemplates(t, `[{"name": "my-app", "image": "base", "description": "an app",
		"envVars": {"APP": "yes"}, "pool": {"size": 1, "warmupCmd": "touch, /tmp/warmed"}}]`)
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 1; c.PoolPrewarm = nil }, mutate)
	stats := func() map[string]manager.PoolStats {
		out := map[string]manager.PoolStats{}
		for _, p := range s.srv.eng.PoolStats() {
			out[p.Template] = p
		}
		return out
	}
	full := func(sizes map[string]int) func() bool {
		return func() bool {
			st := stats()
			for name, n := range sizes {
				if st[name].Size != n || st[name].Ready != n {
					return false
				}
			}
			return len(st) == len(sizes)
		}
	}
	until(t, "pools of base, code-interpreter-v1 and my-app", full(map[string]int{"base": 1, "code-interpreter-v1": 1, "my-app": 1}))

	code, body, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "my-app", "timeout": 60}, nil)
	var sb struct{ SandboxID, TemplateID string }
	if err := json.Unmarshal(body, &sb); err != nil || code != 201 || sb.TemplateID != "my-app" {
		t.Fatalf("E2B create with a custom template: %d %s", code, body)
	}
	if got := s.exec(sb.SandboxID, "echo $APP; whoami; ls /tmp/warmed"); got != "yes\nuser\n/tmp/warmed\n" {
		t.Errorf("E2B sandbox of my-app: %q, want its env, E2B's user and the warmup's file", got)
	}
	if st := stats()["my-app"]; st.Claims != 1 {
		t.Errorf("my-app pool after the E2B create: %+v, want one claim", st)
	}
	code, body, _ = s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "code-interpreter-v1", "timeout": 60}, nil)
	if code != 201 || stats()["code-interpreter-v1"].Claims != 1 {
		t.Errorf("code-interpreter-v1 create: %d %s, pool %+v", code, body, stats()["code-interpreter-v1"])
	}
	code, body, _ = s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "my-app:latest", "timeout": 60}, nil)
	if code != 201 {
		t.Errorf("templateID with a tag: %d %s", code, body)
	}
	code, body, _ = s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "nope", "timeout": 60}, nil)
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e); code != 404 || e.Code != 404 || !strings.Contains(e.Message, `template "nope" not found`) {
		t.Errorf("unknown templateID: %d %s", code, body)
	}

	// Editing the file resizes the pool; dropping the template removes it with its sandboxes.
	os.WriteFile(path, []byte(`[{"name": "my-app", "image": "base", "description": "an app",
		"envVars": {"APP": "yes"}, "pool": {"size": 2, "warmupCmd": "touch, /tmp/warmed"}}]`), 0o644)
	until(t, "my-app's pool to grow to 2", full(map[string]int{"base": 1, "code-interpreter-v1": 1, "my-app": 2}))
	os.WriteFile(path, []byte(`[]`), 0o644)
	until(t, "my-app's pool to go", full(map[string]int{"base": 1, "code-interpreter-v1": 1}))
	ctx := context.Background()
	sbs, _ := s.srv.eng.List(ctx, noFilter)
	units := 0
	until(t, "the removed pool's sandboxes to be deleted", func() bool {
		units = countUnits(t, s)
		return units == len(sbs)+2 // the sandboxes made above plus the two built-in warm ones
	})
}

// countUnits counts the runc containers of the server's data dir.
func countUnits(t *testing.T, s *testServer) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.srv.cfg.DataDir, "sandboxes"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}
