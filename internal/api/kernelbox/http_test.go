package kernelbox_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync"
	"testing"

	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
)

// The KernelBox surface on the fake driver (no root): kernels are real code contexts of the
// fake driver's guests, whose interpreters run on the host.

// call sends a request with the test key and decodes the JSON answer into a map.
func call(t *testing.T, s *servertest.Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	resp, raw := s.Do(servertest.Request{Method: method, Path: path, Body: body})
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		servertest.Decode(t, raw, &out)
	}
	return resp.StatusCode, out
}

// needHome skips unless the test's user has a home directory: a kernel's code context starts
// there, as E2B's does (nobody's home, /nonexistent, does not exist).
func needHome(t *testing.T) {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		return // a uid without a passwd entry: the guest takes "/" as its home
	}
	if fi, err := os.Stat(u.HomeDir); err != nil || !fi.IsDir() {
		testenv.Require(t, "interpreters", "code contexts start in the user's home, and the home of "+u.Username+" ("+u.HomeDir+") does not exist: run as a user with a home")
	}
}

// needPython skips unless python3 is where the fake driver's sandboxes look for it.
func needPython(t *testing.T) {
	t.Helper()
	needHome(t)
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not in /usr/bin: apt-get install python3")
	}
}

func TestSessions(t *testing.T) {
	needPython(t)
	s := servertest.New(t)
	code, r := call(t, s, "POST", "/sessions/demo/execute", map[string]any{"code": "x = 42\nx * 2"})
	if code != 200 || r["status"] != "success" || r["return_value"] != "84" || r["execution_count"] != float64(1) {
		t.Fatalf("first execute: %d %v", code, r)
	}
	if _, r = call(t, s, "POST", "/sessions/demo/execute", map[string]any{"code": "print('x is', x)"}); r["output"] != "x is 42\n" {
		t.Errorf("state persists: %v", r)
	}
	_, r = call(t, s, "POST", "/sessions/demo/execute", map[string]any{"code": "1/0"})
	if e, _ := r["error"].(map[string]any); r["status"] != "error" || e["ename"] != "ZeroDivisionError" {
		t.Errorf("error: %v", r)
	}
	_, r = call(t, s, "POST", "/sessions/demo/execute", map[string]any{"code": "import time\nwhile True: time.sleep(0.05)", "timeout": 0.3})
	if r["status"] != "timeout" {
		t.Errorf("timeout: %v", r)
	}
	_, r = call(t, s, "POST", "/sessions/demo/execute_with_retry", map[string]any{"code": "1/0", "on_error_code": "x + 1", "max_attempts": 2})
	if r["status"] != "success" || r["return_value"] != "43" {
		t.Errorf("retry with on_error_code: %v", r)
	}
	if code, k := call(t, s, "GET", "/kernels/demo", nil); code != 200 || k["alive"] != true || k["kernel"].(map[string]any)["session_name"] != "demo" {
		t.Errorf("the session's kernel: %d %v", code, k)
	}
}

func TestKernels(t *testing.T) {
	needHome(t)
	s := servertest.New(t)
	code, k := call(t, s, "POST", "/kernels", map[string]any{"name": "sh", "language": "bash", "tags": map[string]string{"team": "a"}})
	if code != 201 || k["name"] != "sh" || k["language"] != "bash" || k["kernel_id"] == "" {
		t.Fatalf("create: %d %v", code, k)
	}
	id := k["kernel_id"].(string)
	code, r := call(t, s, "POST", "/kernels/"+id+"/execute", map[string]any{"code": "V=7; echo $((V*6))"})
	if code != 200 || r["status"] != "success" || r["output"] != "42\n" {
		t.Errorf("execute: %d %v", code, r)
	}
	if _, r := call(t, s, "POST", "/kernels/sh/execute", map[string]any{"code": "echo $V"}); r["output"] != "7\n" {
		t.Errorf("execute by name, state kept: %v", r)
	}
	code, r = call(t, s, "POST", "/kernels/sh/execute/retry", map[string]any{"code": "false", "replacement_codes": []string{"echo second"}, "max_attempts": 2})
	if code != 200 || r["status"] != "success" || r["output"] != "second\n" {
		t.Errorf("retry: %d %v", code, r)
	}
	if code, r := call(t, s, "POST", "/kernels/sh/restart", nil); code != 200 || r["execution_count"] != float64(0) {
		t.Errorf("restart: %d %v", code, r)
	}
	if _, r := call(t, s, "POST", "/kernels/sh/execute", map[string]any{"code": "echo \"[$V]\""}); r["output"] != "[]\n" {
		t.Errorf("state after restart: %v", r)
	}
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/kernels"})
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"kernel_id":"`+id+`"`) {
		t.Errorf("list: %d %s", resp.StatusCode, raw)
	}
	if code, r := call(t, s, "DELETE", "/kernels/sh", nil); code != 200 || r["deleted"] != true {
		t.Errorf("delete: %d %v", code, r)
	}
	// The kernel's own sandbox went with it.
	_, env := s.Native("GET", "/sandboxes", nil)
	if sbs := servertest.Data[[]json.RawMessage](t, env); len(sbs) != 0 {
		t.Errorf("sandboxes left after the kernel was deleted: %s", env.Data)
	}
}

// TestErrors: each route's main errors in KernelBox's {"detail"} shape.
func TestErrors(t *testing.T) {
	s := servertest.New(t)
	for _, c := range []struct {
		name, method, path string
		body               any
		code               int
		msg                string
	}{
		{"unknown kernel", "GET", "/kernels/ghost", nil, 404, "ghost"},
		{"execute unknown kernel", "POST", "/kernels/ghost/execute", map[string]any{"code": "1"}, 404, "ghost"},
		{"delete unknown kernel", "DELETE", "/kernels/ghost", nil, 404, "ghost"},
		{"restart unknown kernel", "POST", "/kernels/ghost/restart", nil, 404, "ghost"},
		{"unknown language", "POST", "/kernels", map[string]any{"language": "cobol"}, 400, "cobol"},
		{"unknown field", "POST", "/kernels", map[string]any{"colour": "red"}, 400, "colour"},
		{"not json", "POST", "/sessions/s/execute", "{", 400, "JSON"},
		{"negative timeout", "POST", "/sessions/s/execute", map[string]any{"code": "1", "timeout": -1}, 400, "timeout"},
		{"session in an unknown sandbox", "POST", "/sessions/s/execute", map[string]any{"code": "1", "language": "bash", "sandbox": "ghost"}, 404, "ghost"},
		{"unknown route", "GET", "/kernels/x/y/z", nil, 404, "no route"},
		// The rest of /sessions is Sandcaster's (internal/api/sandcaster).
		{"wrong method on a session route", "PUT", "/sessions/x/execute_with_retry", nil, 405, "PUT"},
		{"wrong method", "PUT", "/kernels", nil, 405, "PUT"},
	} {
		code, r := call(t, s, c.method, c.path, c.body)
		if d, _ := r["detail"].(string); code != c.code || len(r) != 1 || !strings.Contains(d, c.msg) {
			t.Errorf("%s: %d %v, want %d {detail} mentioning %q", c.name, code, r, c.code, c.msg)
		}
	}
	t.Run("409", func(t *testing.T) {
		needHome(t)
		if code, k := call(t, s, "POST", "/kernels", map[string]any{"name": "taken", "language": "bash"}); code != 201 {
			t.Fatalf("create: %d %v", code, k)
		}
		if code, r := call(t, s, "POST", "/kernels", map[string]any{"name": "taken", "language": "bash"}); code != 409 || !strings.Contains(r["detail"].(string), "taken") {
			t.Errorf("name taken: %d %v, want 409", code, r)
		}
		// A kernel whose sandbox is stopped is in the wrong state.
		_, k := call(t, s, "GET", "/kernels/taken", nil)
		sb := k["kernel"].(map[string]any)["sandbox"].(string)
		if code, env := s.Native("POST", "/sandboxes/"+sb+"/stop", nil); code != 200 {
			t.Fatalf("stop the kernel's sandbox: %d %s", code, env.Error)
		}
		if code, r := call(t, s, "POST", "/kernels/taken/execute", map[string]any{"code": "echo"}); code != 409 || !strings.Contains(r["detail"].(string), "stopped") {
			t.Errorf("execute with a stopped sandbox: %d %v, want 409", code, r)
		}
	})
	for _, key := range []string{servertest.NoKey, "wrong"} {
		resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/kernels", Key: key})
		var r map[string]any
		servertest.Decode(t, raw, &r)
		if resp.StatusCode != 401 || r["detail"] == nil || len(r) != 1 {
			t.Errorf("without a valid key: %d %s, want 401 {detail}", resp.StatusCode, raw)
		}
	}
}

// TestConcurrentFirstExecutes: clients that send the first execute of one new session at the
// same time share one kernel: they all see the same shell.
func TestConcurrentFirstExecutes(t *testing.T) {
	needHome(t)
	s := servertest.New(t)
	const n = 8
	pids := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, r := call(t, s, "POST", "/sessions/together/execute", map[string]any{"code": "echo $$", "language": "bash"})
			pids[i] = r["output"]
		}()
	}
	wg.Wait()
	for i := range pids {
		if pids[i] == nil || pids[i] != pids[0] {
			t.Errorf("execute %d ran in shell %v, execute 0 in %v", i, pids[i], pids[0])
		}
	}
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/kernels"})
	if n := strings.Count(string(raw), `"kernel_id"`); resp.StatusCode != 200 || n != 1 {
		t.Errorf("%d kernels after concurrent first executes, want 1: %s", n, raw)
	}
}
