package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/session"
)

// kb calls a KernelBox route and decodes the JSON answer.
func (s *testServer) kb(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, out
}

func TestKernelBoxSessions(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 2 })
	code, r := s.kb("POST", "/sessions/demo/execute", map[string]any{"code": "x = 42\nx * 2"})
	if code != 200 || r["status"] != "success" || r["return_value"] != "84" || r["execution_count"] != float64(1) || r["error"] != nil {
		t.Fatalf("first execute: %d %v", code, r)
	}
	if _, r = s.kb("POST", "/sessions/demo/execute", map[string]any{"code": "print('x is', x)\nx"}); r["output"] != "x is 42\n" || r["return_value"] != "42" {
		t.Errorf("state persists: %v", r)
	}
	if _, k := s.kb("GET", "/kernels/demo", nil); k["kernel"] == nil || k["kernel"].(map[string]any)["session_name"] != "demo" {
		t.Errorf("session kernel record: %v", k)
	}
	_, r = s.kb("POST", "/sessions/demo/execute", map[string]any{"code": "1/0"})
	if e, _ := r["error"].(map[string]any); r["status"] != "error" || e["ename"] != "ZeroDivisionError" || e["evalue"] != "division by zero" {
		t.Errorf("error fields: %v", r)
	}
	// A timeout interrupts the cell and keeps the state.
	_, r = s.kb("POST", "/sessions/demo/execute", map[string]any{"code": "import time\nwhile True: time.sleep(0.05)", "timeout": 0.5})
	if r["status"] != "timeout" {
		t.Errorf("timeout: %v", r)
	}
	if _, r = s.kb("POST", "/sessions/demo/execute", map[string]any{"code": "x"}); r["return_value"] != "42" {
		t.Errorf("state after timeout: %v", r)
	}
	// Output is capped with a marker.
	_, r = s.kb("POST", "/sessions/demo/execute", map[string]any{"code": "print('y' * 200000)"})
	if out, _ := r["output"].(string); r["truncated"] != true || !strings.HasSuffix(out, "...[truncated by paddock]...") || len(out) > 10100 {
		t.Errorf("truncation: truncated=%v len=%d", r["truncated"], len(out))
	}
	// The stream items of outputs[] are capped the same way.
	var streamed string
	outputs, _ := r["outputs"].([]any)
	for _, o := range outputs {
		if o, _ := o.(map[string]any); o["kind"] == "stream" && o["name"] == "stdout" {
			streamed += o["text"].(string)
		}
	}
	if streamed != r["output"] {
		t.Errorf("truncation: outputs[] streams %d characters (ending %q), want the %d of output", len(streamed), streamed[max(len(streamed)-40, 0):], len(r["output"].(string)))
	}
	// Retries: replacement codes, then max_attempts_exceeded with the history.
	_, r = s.kb("POST", "/sessions/demo/execute_with_retry", map[string]any{"code": "undefined_name + 1",
		"replacement_codes": []string{"also_undefined", "40 + 2"}, "max_attempts": 3})
	if attempts, _ := r["attempts"].([]any); r["status"] != "success" || r["return_value"] != "42" || len(attempts) != 3 {
		t.Errorf("retry with replacements: %v", r)
	}
	_, r = s.kb("POST", "/sessions/demo/execute_with_retry", map[string]any{"code": "z + 1", "on_error_code": "z = 41\nz + 1", "max_attempts": 3})
	if r["status"] != "success" || r["return_value"] != "42" {
		t.Errorf("retry with on_error_code: %v", r)
	}
	_, r = s.kb("POST", "/sessions/demo/execute_with_retry", map[string]any{"code": "never_defined", "max_attempts": 2})
	if attempts, _ := r["attempts"].([]any); r["status"] != "max_attempts_exceeded" || len(attempts) != 2 {
		t.Errorf("max attempts: %v", r)
	}
	// Restart clears state.
	if code, _ := s.kb("POST", "/kernels/demo/restart", nil); code != 200 {
		t.Fatalf("restart: %d", code)
	}
	if _, r = s.kb("POST", "/kernels/demo/execute", map[string]any{"code": "x"}); r["status"] != "error" {
		t.Errorf("after restart x still defined: %v", r)
	}
}

func TestKernelBoxKernelsAreIsolated(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	code, a := s.kb("POST", "/kernels", map[string]any{"name": "alpha", "tags": map[string]string{"team": "red"}})
	if code != 201 || a["kernel_id"] == nil || a["sandbox"] == nil {
		t.Fatalf("create: %d %v", code, a)
	}
	// KernelBox's kernel record: tags, age_seconds, and session_name only for session kernels.
	if tags, _ := a["tags"].(map[string]any); tags["team"] != "red" || a["age_seconds"] == nil || a["session_name"] != nil {
		t.Errorf("kernel record: %v", a)
	}
	s.kb("POST", "/kernels", map[string]any{"name": "beta", "language": "bash"})
	s.kb("POST", "/kernels/alpha/execute", map[string]any{"code": "open('/tmp/secret', 'w').write('alpha only')"})
	_, r := s.kb("POST", "/kernels/beta/execute", map[string]any{"code": "cat /tmp/secret 2>&1; echo $$"})
	if strings.Contains(r["output"].(string), "alpha only") {
		t.Error("kernel beta can read kernel alpha's files")
	}
	// A bash cell that times out is interrupted; the shell keeps its variables and cwd.
	s.kb("POST", "/kernels/beta/execute", map[string]any{"code": "X=kept; cd /tmp"})
	if _, r := s.kb("POST", "/kernels/beta/execute", map[string]any{"code": "sleep 30; X=changed", "timeout": 0.5}); r["status"] != "timeout" {
		t.Errorf("bash timeout: %v", r)
	}
	if _, r := s.kb("POST", "/kernels/beta/execute", map[string]any{"code": "echo $X $PWD"}); r["status"] != "success" || r["output"] != "kept /tmp\n" {
		t.Errorf("bash state after a timeout: %v", r)
	}
	code, got := s.kb("GET", "/kernels/"+a["kernel_id"].(string), nil)
	if code != 200 || got["alive"] != true {
		t.Errorf("get by id: %d %v", code, got)
	}
	req, _ := http.NewRequest("GET", s.url+"/kernels", nil)
	req.Header.Set("X-API-Key", testKey)
	resp, _ := http.DefaultClient.Do(req)
	var list struct{ Kernels []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Kernels) != 2 {
		t.Errorf("list: %d kernels", len(list.Kernels))
	}
	// Bad input, each with a message.
	cases := []struct {
		method, path string
		body         any
		code         int
		msg          string
	}{
		{"POST", "/kernels", map[string]any{"name": "gamma", "language": "cobol"}, 400, "python"},
		{"POST", "/kernels", map[string]any{"name": "alpha"}, 409, "exists"},
		{"POST", "/kernels/alpha/execute", map[string]any{"code": "  "}, 400, "empty"},
		{"POST", "/kernels/alpha/execute", map[string]any{"code": "1", "timeout": -1}, 400, "timeout"},
		{"POST", "/kernels/alpha/execute", map[string]any{"code": strings.Repeat("#", 2<<20)}, 413, ""},
		{"POST", "/kernels/nope/execute", map[string]any{"code": "1"}, 404, "nope"},
	}
	for _, c := range cases {
		code, r := s.kb(c.method, c.path, c.body)
		if code != c.code || (c.msg != "" && !strings.Contains(strings.ToLower(r["detail"].(string)), c.msg)) {
			t.Errorf("%s %s: %d %v, want %d mentioning %q", c.method, c.path, code, r, c.code, c.msg)
		}
	}
	// A session can run in an existing sandbox.
	s.call("POST", "/sandboxes", map[string]any{"name": "shared"}, "")
	s.call("PUT", "/sandboxes/shared/files/workspace/note.txt", map[string]any{"content": "in shared"}, "")
	if _, r := s.kb("POST", "/sessions/in-shared/execute", map[string]any{"code": "open('/workspace/note.txt').read()", "sandbox": "shared"}); r["return_value"] != "'in shared'" {
		t.Errorf("session in an existing sandbox: %v", r)
	}
	// Its sandbox deleted underneath: a clear 409 saying what to do.
	s.call("DELETE", "/sandboxes/"+a["sandbox"].(string), nil, "")
	code, r = s.kb("POST", "/kernels/alpha/execute", map[string]any{"code": "1"})
	if code != 409 || !strings.Contains(r["detail"].(string), "delete the kernel") {
		t.Errorf("lost sandbox: %d %v", code, r)
	}
	if code, _ := s.kb("DELETE", "/kernels/alpha", nil); code != 200 {
		t.Errorf("delete: %d", code)
	}
}

func TestIdleSessionsAreCulled(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0; c.SessionIdleTimeout = 300 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.srv.sessions.CullIdle(ctx, 50*time.Millisecond)
	_, k := s.kb("POST", "/kernels", map[string]any{"name": "sleepy"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, env := s.call("GET", "/events?type=session_culled", nil, "")
		if n := len(data[[]map[string]any](t, env)); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle kernel was not culled")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := s.kb("GET", "/kernels/sleepy", nil); code != 404 {
		t.Errorf("culled kernel still listed: %d", code)
	}
	if code, _ := s.call("GET", "/sandboxes/"+k["sandbox"].(string), nil, ""); code != 404 {
		t.Errorf("culled kernel's sandbox still exists: %d", code)
	}
}

// TestKernelSandboxesDoNotOutliveTheRegistry: kernels live in memory, so a new registry (a
// restarted server) deletes the sandboxes of kernels it does not know.
func TestKernelSandboxesDoNotOutliveTheRegistry(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	_, k := s.kb("POST", "/kernels", map[string]any{"name": "before-restart"})
	fresh := session.New(s.srv.eng.Manager, session.Options{})
	fresh.DropOrphans(context.Background())
	if code, _ := s.call("GET", "/sandboxes/"+k["sandbox"].(string), nil, ""); code != 404 {
		t.Errorf("the old kernel's sandbox survived: %d", code)
	}
}
