package kernelbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/paddock/paddock/internal/api/kernelbox"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/session"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// surface is the KernelBox surface over the fake driver: kernels run real interpreters
// (on the host, as the fake's guests do), with no root and no runc.
type surface struct {
	t   *testing.T
	url string
}

func newSurface(t *testing.T, langs ...string) *surface {
	t.Helper()
	for _, bin := range langs {
		if _, err := exec.LookPath(bin); err != nil {
			testenv.Require(t, "interpreters", bin+" not in PATH: apt-get install "+bin)
		}
	}
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	reg := session.New(m, session.Options{})
	mux := http.NewServeMux()
	kernelbox.New(reg, 1<<20, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		for _, k := range reg.List(context.Background(), "") {
			_ = reg.Delete(context.Background(), k.ID, "")
		}
		_ = m.Close(context.Background())
	})
	return &surface{t: t, url: srv.URL}
}

func (s *surface) call(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// TestListKernelsShape: GET /kernels answers {"kernels": [...]}, as KernelBox does.
func TestListKernelsShape(t *testing.T) {
	s := newSurface(t, "python3")
	if code, k := s.call("POST", "/kernels", map[string]any{"name": "listed"}); code != 201 {
		t.Fatalf("create: %d %v", code, k)
	}
	code, got := s.call("GET", "/kernels", nil)
	ks, _ := got["kernels"].([]any)
	if code != 200 || len(ks) != 1 || ks[0].(map[string]any)["name"] != "listed" {
		t.Errorf("GET /kernels: %d %v", code, got)
	}
}

// TestSessionLanguages: an unknown language is a 400 on an existing session too; another
// known language runs in the same session (its sandbox, its files), each language keeping its
// own state, as KernelBox runs bash cells in a python kernel.
func TestSessionLanguages(t *testing.T) {
	s := newSurface(t, "python3", "bash")
	if _, r := s.call("POST", "/sessions/mixed/execute", map[string]any{"code": "x = 41\nopen('/tmp/kb-shared-" + t.Name() + "', 'w').write('from python')"}); r["status"] != "success" {
		t.Fatalf("python: %v", r)
	}
	for _, lang := range []string{"cobol", "brainfuck"} {
		if code, r := s.call("POST", "/sessions/mixed/execute", map[string]any{"code": "1", "language": lang}); code != 400 {
			t.Errorf("language %s on an existing session: %d %v, want 400", lang, code, r)
		}
	}
	_, r := s.call("POST", "/sessions/mixed/execute", map[string]any{"language": "bash", "code": "cat /tmp/kb-shared-" + t.Name() + "; echo; N=5"})
	if r["status"] != "success" || r["output"] != "from python\n" {
		t.Errorf("bash in a python session: %v", r)
	}
	if _, r = s.call("POST", "/sessions/mixed/execute", map[string]any{"language": "sh", "code": "echo $((N + 1))"}); r["output"] != "6\n" {
		t.Errorf("bash state across bash cells: %v", r)
	}
	if _, r = s.call("POST", "/sessions/mixed/execute", map[string]any{"code": "x + 1"}); r["return_value"] != "42" || r["execution_count"] != float64(4) {
		t.Errorf("python state after bash cells: %v (execution_count counts every cell of the session)", r)
	}
	if _, r = s.call("POST", "/kernels/mixed/execute/retry", map[string]any{"language": "bash", "code": "exit_with() { return $1; }; exit_with 1", "on_error_code": "echo fixed", "max_attempts": 2}); r["status"] != "success" || r["output"] != "fixed\n" {
		t.Errorf("retry in bash: %v", r)
	}
	// A string's return value is its text/plain, quotes and all, as IPython's.
	if _, r = s.call("POST", "/kernels/mixed/execute", map[string]any{"code": "'abc'"}); r["return_value"] != "'abc'" {
		t.Errorf("return_value of a str: %v", r["return_value"])
	}
	// Restart clears every language's state.
	s.call("POST", "/kernels/mixed/restart", nil)
	if _, r = s.call("POST", "/kernels/mixed/execute", map[string]any{"language": "bash", "code": "echo \"N=$N\""}); r["output"] != "N=\n" {
		t.Errorf("bash state after restart: %v", r)
	}
}
