package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/server/servertest"
)

// TestUnansweringGuestNamesNoHostPath: when a running sandbox's guest stops answering,
// every surface says so without a host path (the guest's socket lives under the server's
// directories); the server's log keeps the socket path for the operator.
func TestUnansweringGuestNamesNoHostPath(t *testing.T) {
	s := servertest.New(t)
	var box struct{ SandboxID string }
	if code := s.JSON("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base"}, &box); code != 201 {
		t.Fatalf("create: %d", code)
	}
	id := box.SandboxID
	if err := s.Driver.Unplug(id); err != nil {
		t.Fatal(err)
	}
	exec := map[string]any{"command": []string{"true"}}
	for _, c := range []struct {
		method, path string
		body         any
		status       int // 0: the answer is a 200 stream carrying the error
	}{
		{"POST", "/sandboxes/" + id + "/exec", exec, 503},
		{"POST", "/sandboxes/" + id + "/exec/stream", exec, 0},
		{"GET", "/sandboxes/" + id + "/files/tmp/x", nil, 503},
		{"PUT", "/sandboxes/" + id + "/files/tmp/x", map[string]string{"content": "data"}, 503},
		{"DELETE", "/sandboxes/" + id + "/files/tmp/x", nil, 503},
		{"GET", "/e2b/v1/sandboxes/" + id + "/metrics", nil, 503},
		{"POST", "/kernels", map[string]any{"language": "python", "sandbox": id}, 503},
	} {
		resp, raw := s.Do(servertest.Request{Method: c.method, Path: c.path, Body: c.body})
		body := string(raw)
		want := c.status
		if want == 0 {
			want = http.StatusOK
		}
		if resp.StatusCode != want || !strings.Contains(body, sandbox.GuestNotAnswering) {
			t.Errorf("%s %s: %d %s, want %d saying %q", c.method, c.path, resp.StatusCode, body, want, sandbox.GuestNotAnswering)
		}
		for _, dir := range []string{s.DataDir, s.Driver.Dir(), ".sock"} {
			if strings.Contains(body, dir) {
				t.Errorf("%s %s: the answer names %s: %s", c.method, c.path, dir, body)
			}
		}
	}
	if !strings.Contains(s.Logs.String(), s.Driver.Dir()) {
		t.Error("the server's log lost the unreachable socket's path")
	}
}
