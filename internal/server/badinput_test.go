package server

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// TestBadInputAnswers sends the inputs found answering wrongly (issue 10, item 8) through the
// real engine: each gets a 4xx that names what is wrong.
func TestBadInputAnswers(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "box"}, ""); code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	for _, c := range []struct {
		method, path, body string
		want               string
	}{
		{"POST", "/sandboxes/box/exec", `{"command":["true"],"timeout":999999999999}`, "timeout 999999999999 is too large (max 86400 seconds)"},
		{"POST", "/run", `{"command":["true"],"timeout":999999999999}`, "is too large"},
		{"POST", "/sandboxes/box/exec", `{"command":["env"],"env":{"A=B":"x"}}`, `variable name "A=B"`},
		{"POST", "/sandboxes", `{"name":"e","env":{"A\u0000B":"x"}}`, `variable name "A\x00B"`},
		{"POST", "/sandboxes", `{"name":"p","port":0}`, "port 0"},
	} {
		code, env := s.call(c.method, c.path, c.body, "")
		if code != 400 || !strings.Contains(env.Error, c.want) {
			t.Errorf("%s %s %s: %d %q, want 400 with %q", c.method, c.path, c.body, code, env.Error, c.want)
		}
	}
	if code, r := s.kb("POST", "/sessions/t/execute", map[string]any{"code": "1", "timeout": 999999999999}); code != 400 || !strings.Contains(r["detail"].(string), "too large") {
		t.Errorf("KernelBox timeout: %d %v", code, r)
	}
	if code, raw, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base", "envVars": map[string]string{"A=B": "x"}}, nil); code != 400 || !strings.Contains(string(raw), `A=B`) {
		t.Errorf("E2B create with env A=B: %d %s", code, raw)
	}
	// /proc files say they are empty; their content comes back anyway.
	code, env := s.call("GET", "/sandboxes/box/files/proc/self/maps", nil, "")
	var f struct{ Content string }
	_ = json.Unmarshal(env.Data, &f)
	if code != 200 || !strings.Contains(f.Content, "[stack]") {
		t.Errorf("/proc/self/maps: %d %q %.200s", code, env.Error, f.Content)
	}
	code, body := s.get("/sandboxes/box/files/proc/self/status?raw=1")
	if code != 200 || !strings.Contains(body, "VmRSS") {
		t.Errorf("raw /proc/self/status: %d %.200s", code, body)
	}
	// A 502 for a closed port names no internal sandbox name (E2B sandboxes are e2b-…).
	sb := s.e2bCreate(map[string]any{"templateID": "base"})
	code, body = s.get("/sandboxes/" + sb.SandboxID + "/ports/9999/")
	if code != 502 || strings.Contains(body, "e2b-") || !strings.Contains(body, "nothing is listening on port 9999") {
		t.Errorf("native port route, closed port: %d %s", code, body)
	}
	if code, body := s.portGet("/", map[string]string{"E2b-Sandbox-Id": sb.SandboxID, "E2b-Sandbox-Port": "9999"}); code != 502 || strings.Contains(body, "e2b-") {
		t.Errorf("E2B data plane, closed port: %d %s", code, body)
	}
}

// get sends an authenticated GET and returns the status and body.
func (s *testServer) get(path string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestImageWithoutPasswd runs an image with no /etc/passwd (a static busybox alone): root
// and the default user are uid 0, and an unknown user is a 400 that names it (it was a 401,
// as if the API key were wrong).
func TestImageWithoutPasswd(t *testing.T) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		testenv.Require(t, "busybox", "busybox missing: apt-get install busybox-static")
	}
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(body)
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, bb)
	for _, l := range []string{"sh", "id"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox"}, nil)
	}
	_ = tw.Close()
	req, _ := http.NewRequest("POST", s.url+"/images/import?name=nopasswd:1", &buf)
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d %s", resp.StatusCode, b)
	}
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "bare", "image": "nopasswd:1", "network": "none"}, ""); code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	for _, user := range []string{"", "root"} {
		code, env := s.call("POST", "/sandboxes/bare/exec", map[string]any{"command": []string{"/bin/id", "-u"}, "user": user}, "")
		var out execOut
		_ = json.Unmarshal(env.Data, &out)
		if code != 200 || out.Stdout != "0\n" {
			t.Errorf("user %q: %d %q %+v", user, code, env.Error, out)
		}
	}
	code, env := s.call("POST", "/sandboxes/bare/exec", map[string]any{"command": []string{"/bin/id"}, "user": "bob"}, "")
	if code != 400 || env.Error != `user "bob" does not exist in the sandbox (no /etc/passwd entry)` {
		t.Errorf("unknown user: %d %q, want 400 naming the user", code, env.Error)
	}
}

// TestDeleteDuringStreams deletes a sandbox while a command streams from it through
// /exec/stream, /run/stream and the attach WebSocket: each ends saying so, not with the
// broken connection's "protocol error: incomplete envelope".
func TestDeleteDuringStreams(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	const deleted = "the sandbox was deleted while the command ran"
	cmd := []string{"sh", "-c", "echo up; sleep 600"}
	sse := func(path string, body any, sandbox string) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.url+path, bytes.NewReader(b))
		req.Header.Set("X-API-Key", testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var last string
		for sc.Scan() {
			line := sc.Text()
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				last = d
				if sandbox == "" && strings.Contains(d, `"sandbox":"run-`) {
					var v struct{ Sandbox string }
					_ = json.Unmarshal([]byte(d), &v)
					sandbox = v.Sandbox
				}
				if strings.Contains(d, `"content":"up\n"`) {
					if code, env := s.call("DELETE", "/sandboxes/"+sandbox, nil, ""); code != 200 {
						t.Fatalf("delete %s: %d %s", sandbox, code, env.Error)
					}
				}
			}
		}
		if !strings.Contains(last, `"message":"`+deleted+`"`) {
			t.Errorf("%s: last event %s, want an error saying %q", path, last, deleted)
		}
	}
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "gone1"}, ""); code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	sse("/sandboxes/gone1/exec/stream", map[string]any{"command": cmd}, "gone1")
	sse("/run/stream", map[string]any{"command": cmd}, "")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := client.New(s.url, testKey)
	if _, err := c.CreateSandbox(ctx, client.CreateRequest{Name: "gone2"}); err != nil {
		t.Fatal(err)
	}
	att, err := c.Attach(ctx, "gone2", client.AttachRequest{Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	for {
		m, err := att.Receive()
		if err != nil {
			t.Fatalf("attach: %v before an error message", err)
		}
		if string(m.Data) == "up\n" {
			if err := c.DeleteSandbox(ctx, "gone2"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if m.Type != "error" || m.Message != deleted {
			t.Errorf("attach after delete: %+v, want an error saying %q", m, deleted)
		}
		break
	}
}
