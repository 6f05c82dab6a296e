package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/testenv"
)

func TestTemplateCLI(t *testing.T) {
	testenv.NeedRunc(t)
	dir := testenv.TempDir(t)
	addr := freeAddr(t)
	serveProcess(t, dir, addr)
	env := []string{"PADDOCK_HOST=http://" + addr, "PADDOCK_DATA_DIR=" + dir}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, env, stdin, args...)
		if code != 0 {
			t.Fatalf("paddock %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	file := filepath.Join(dir, "mine.json")
	os.WriteFile(file, []byte(`[{"name": "web", "image": "base", "description": "a web app", "port": 3000,
		"envVars": {"GREETING": "from the template"}}]`), 0o644)
	if out := must("", "template", "apply", file); !strings.Contains(out, "applied 1 templates") {
		t.Errorf("apply:\n%s", out)
	}
	out := must("", "template", "ls")
	for _, want := range []string{"web  ", "file", "3000", "a web app", "code-interpreter-v1", "builtin"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls lacks %q:\n%s", want, out)
		}
	}
	var shown map[string]any
	if err := json.Unmarshal([]byte(must("", "template", "show", "web")), &shown); err != nil || shown["port"] != 3000.0 {
		t.Errorf("show web: %v %v", shown, err)
	}
	// The server wrote the templates file it watches.
	if b, err := os.ReadFile(filepath.Join(dir, "templates.json")); err != nil || !strings.Contains(string(b), `"web"`) {
		t.Errorf("templates file: %s %v", b, err)
	}

	must("", "sandbox", "create", "box", "--template", "web")
	if out, _, code := cli(t, env, "", "exec", "box", "--", "sh", "-c", "echo $GREETING"); code != 0 || out != "from the template\n" {
		t.Errorf("exec in a sandbox from the template: %d %q", code, out)
	}
	must("", "sandbox", "rm", "box")

	// Bad input: a misspelt field is caught before sending; an invalid value by the server.
	if _, errOut, code := cli(t, env, `[{"name": "x", "image": "base", "descripton": "typo"}]`, "template", "apply", "-"); code == 0 ||
		!strings.Contains(errOut, `unknown field "descripton"`) {
		t.Errorf("apply with a misspelt field: %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, env, `[{"name": "x", "image": "base", "description": "d", "pool": {"size": -1}}]`, "template", "apply", "-"); code == 0 ||
		!strings.Contains(errOut, `template "x": pool.size`) || !strings.Contains(errOut, "400") {
		t.Errorf("apply an invalid template: %d %s", code, errOut)
	}
	if _, errOut, code := cli(t, env, "", "template", "show", "nope"); code == 0 || !strings.Contains(errOut, `template "nope" not found`) {
		t.Errorf("show nope: %d %s", code, errOut)
	}
}
