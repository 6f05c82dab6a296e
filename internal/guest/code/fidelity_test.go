package code

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/guestproto"
)

// TestStringResultIsTheString: as in E2B's code interpreter, a str's text/plain is the
// string without its quotes; keep_quotes (what KernelBox sessions ask for) keeps them.
func TestStringResultIsTheString(t *testing.T) {
	need(t, "python3")
	need(t, "node")
	srv, _ := newServer(t)
	ctx := context.Background()
	cases := []struct {
		lang, code string
		keep       bool
		want       string
	}{
		{"python", "'value'", false, "value"},
		{"python", `"it's"`, false, "it's"},
		{"python", "'value'", true, "'value'"},
		{"python", "['a', 1]", false, "['a', 1]"},
		{"python", "42", false, "42"},
		{"javascript", "'value'", false, "value"},
		{"javascript", "'value'", true, "'value'"},
	}
	for _, c := range cases {
		r := execute(t, ctx, srv.URL, map[string]any{"language": c.lang, "code": c.code, "keep_quotes": c.keep})
		if len(r.results) != 1 || r.results[0]["text"] != c.want {
			t.Errorf("%s %s (keep_quotes %v): %+v, want text %q", c.lang, c.code, c.keep, r.results, c.want)
		}
	}
	r := execute(t, ctx, srv.URL, map[string]any{"code": "display('shown')\nNone"})
	if len(r.results) != 1 || r.results[0]["text"] != "shown" {
		t.Errorf("display of a str: %+v", r.results)
	}
}

// TestDefaultContextsAreListed: GET /contexts shows the python and javascript default
// contexts, as E2B's does; their IDs reach the contexts that language executions share.
func TestDefaultContextsAreListed(t *testing.T) {
	need(t, "python3")
	need(t, "node")
	srv, _ := newServer(t)
	ctx := context.Background()
	list := listContexts(t, srv.URL)
	if len(list) != 2 || list[0].Language != "python" || list[1].Language != "javascript" || list[0].ID == "" || list[0].Cwd == "" {
		t.Fatalf("a fresh guest lists %+v, want the python and javascript defaults", list)
	}
	py := list[0].ID
	execute(t, ctx, srv.URL, map[string]any{"code": "shared = 1"})
	if r := execute(t, ctx, srv.URL, map[string]any{"context_id": py, "code": "shared + 1"}); len(r.results) != 1 || r.results[0]["text"] != "2" {
		t.Errorf("the listed python context is not the default one: %+v", r)
	}
	if again := listContexts(t, srv.URL); again[0].ID != py {
		t.Errorf("the default's ID changed once started: %+v", again)
	}
	// Restarting it by ID clears its state and keeps its ID.
	resp, _ := http.Post(srv.URL+"/contexts/"+py+"/restart", "application/json", nil)
	resp.Body.Close()
	if r := execute(t, ctx, srv.URL, map[string]any{"code": "'shared' in dir()"}); resp.StatusCode != 200 || r.results[0]["text"] != "False" {
		t.Errorf("restart of the default context: %d %+v", resp.StatusCode, r.results)
	}
	execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "true"})
	if l := listContexts(t, srv.URL); len(l) != 3 || l[2].Language != "bash" {
		t.Errorf("after a bash execution: %+v", l)
	}
	// Deleting it ends it; the language gets a new default context with a new ID.
	req, _ := http.NewRequest("DELETE", srv.URL+"/contexts/"+py, nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if l := listContexts(t, srv.URL); resp.StatusCode != 200 || len(l) != 3 || l[0].Language != "python" || l[0].ID == py {
		t.Errorf("after deleting the default python context (%d): %+v", resp.StatusCode, l)
	}
	if r := execute(t, ctx, srv.URL, map[string]any{"code": "1 + 1"}); len(r.results) != 1 || r.results[0]["text"] != "2" {
		t.Errorf("python after its default context was deleted: %+v", r)
	}
}

// TestContextCwdTheUserCannotEnter is a 403 naming the directory, not a 500.
func TestContextCwdTheUserCannotEnter(t *testing.T) {
	need(t, "python3")
	if os.Geteuid() != 0 {
		t.Skip("needs root to run contexts as another user")
	}
	svc := New(guestenv.New("nobody"), process.NewDirectReaper(), nil)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); svc.Close() })
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+"/contexts", "application/json", strings.NewReader(`{"language":"python","cwd":"`+private+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(b.String(), private) || !strings.Contains(b.String(), "nobody") {
		t.Errorf("cwd %s as nobody: %d %q, want 403 naming it", private, resp.StatusCode, b.String())
	}
	resp, _ = http.Post(srv.URL+"/contexts", "application/json", strings.NewReader(`{"language":"python","cwd":"/tmp"}`))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("cwd /tmp as nobody: %d", resp.StatusCode)
	}
}

// TestBashCellEnvIsRestored: env_vars hold for one bash cell; afterwards every variable has
// its previous value again (a sandbox-level one is not unset).
func TestBashCellEnvIsRestored(t *testing.T) {
	need(t, "bash")
	settings := guestenv.New("0")
	settings.Apply(guestproto.InitRequest{EnvVars: map[string]string{"GREETING": "sandbox"}})
	svc := New(settings, process.NewDirectReaper(), nil)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); svc.Close() })
	ctx := context.Background()
	bash := func(code string, env map[string]string) string {
		return execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": code, "env_vars": env}).stdout
	}
	bash("LOCAL=mine", nil)
	got := bash(`echo "$GREETING $LOCAL $NEW"; env | grep -c '^LOCAL=' || true`,
		map[string]string{"GREETING": "cell", "LOCAL": "it's", "NEW": "x"})
	if got != "cell it's x\n1\n" {
		t.Errorf("in the cell: %q", got)
	}
	got = bash(`echo "$GREETING ${LOCAL} ${NEW-unset}"; env | grep -c '^LOCAL=' || true; env | grep '^GREETING='`, nil)
	if got != "sandbox mine unset\n0\nGREETING=sandbox\n" {
		t.Errorf("after the cell: %q, want the sandbox's GREETING, the shell's own LOCAL (not exported) and no NEW", got)
	}
	for _, env := range []map[string]string{{"BAD-NAME": "1"}, {"OK": "nul\x00"}} {
		b, _ := json.Marshal(map[string]any{"language": "bash", "code": "true", "env_vars": env})
		resp, _ := http.Post(srv.URL+"/execute", "application/json", strings.NewReader(string(b)))
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("env_vars %q: %d, want 400", env, resp.StatusCode)
		}
	}
}

// TestExecuteAnswersBeforeOutput: the response headers go out when the cell starts, not
// with its first output (keepalives are turned off: one would carry them too).
func TestExecuteAnswersBeforeOutput(t *testing.T) {
	need(t, "python3")
	srv, svc := newServer(t)
	svc.keepalive = time.Hour
	gate := filepath.Join(t.TempDir(), "gate")
	code := "import os, time\nwhile not os.path.exists(" + pyString(gate) + "): time.sleep(0.01)\nprint('released')"
	b, _ := json.Marshal(map[string]any{"code": code})
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/execute", "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Error(err)
			close(answered)
			return
		}
		answered <- resp
	}()
	var resp *http.Response
	select {
	case resp = <-answered:
	case <-time.After(30 * time.Second):
		_ = os.WriteFile(gate, nil, 0o644) // the cell ends, and with it the request
		if resp := <-answered; resp != nil {
			resp.Body.Close()
		}
		t.Fatal("no response headers while the cell runs silently")
	}
	if resp == nil {
		t.FailNow()
	}
	defer resp.Body.Close()
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&out)
	if resp.StatusCode != 200 || !strings.Contains(out.String(), "released") {
		t.Errorf("%d %s", resp.StatusCode, out.String())
	}
}

func pyString(s string) string { b, _ := json.Marshal(s); return string(b) }
