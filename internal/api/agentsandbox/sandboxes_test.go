package agentsandbox_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/server/servertest"
)

type sandboxObj struct {
	Name, Template, ID, Image, Status string
	Timeout                           int
	Port                              int
}

func TestSandboxLifecycle(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "sandbox-01")
	fails(t, s, "POST", v1+"/sandbox", map[string]any{"name": "sandbox-01"}, 409, "sandbox-01")

	var list []sandboxObj
	ok(t, s, "GET", v1+"/sandbox", nil, &list)
	if len(list) != 1 || list[0].Name != "sandbox-01" || list[0].Status != "running" || list[0].ID == "" {
		t.Fatalf("list: %+v", list)
	}
	var got sandboxObj
	ok(t, s, "GET", v1+"/sandbox/sandbox-01", nil, &got)
	if got.Template != "base" || got.Image != "base" || got.Timeout != 1800 || got.Port != 8080 {
		t.Errorf("get: %+v, want template and image base, timeout 1800 (Agent-Sandbox's default), port 8080", got)
	}

	var msg string
	ok(t, s, "POST", v1+"/sandbox/pause/sandbox-01", nil, &msg)
	if msg != "Sandbox sandbox-01 paused successfully" {
		t.Errorf("pause: %q", msg)
	}
	if ok(t, s, "GET", v1+"/sandbox/sandbox-01", nil, &got); got.Status != "paused" {
		t.Errorf("after pause: %s", got.Status)
	}
	fails(t, s, "POST", v1+"/sandbox/pause/sandbox-01", nil, 409, "not running")
	ok(t, s, "POST", v1+"/sandbox/resume/sandbox-01", nil, &msg)
	if msg != "Sandbox sandbox-01 resumed successfully" {
		t.Errorf("resume: %q", msg)
	}
	fails(t, s, "POST", v1+"/sandbox/resume/sandbox-01", nil, 409, "not paused")

	ok(t, s, "DELETE", v1+"/sandbox/sandbox-01", nil, &msg)
	if msg != "Sandbox sandbox-01 deleted successfully" {
		t.Errorf("delete: %q", msg)
	}
	fails(t, s, "GET", v1+"/sandbox/sandbox-01", nil, 404, "sandbox sandbox-01 not found")
	if ok(t, s, "GET", v1+"/sandbox", nil, &list); len(list) != 0 {
		t.Errorf("list after delete: %+v", list)
	}
}

func TestCreateInputs(t *testing.T) {
	s := servertest.New(t)
	var data string
	ok(t, s, "POST", v1+"/sandbox", map[string]any{}, &data)
	if !regexp.MustCompile(`^Sandbox sandbox-[0-9a-f]{10} created successfully$`).MatchString(data) {
		t.Errorf("generated name: %q", data)
	}
	ok(t, s, "POST", v1+"/sandbox", "", &data) // no body at all: every field is optional
	ok(t, s, "POST", v1+"/sandbox", map[string]any{"name": "forever", "timeout": 9999}, nil)
	var got sandboxObj
	if ok(t, s, "GET", v1+"/sandbox/forever", nil, &got); got.Timeout != 0 {
		t.Errorf("timeout 9999: %d, want none", got.Timeout)
	}
	for _, c := range []struct {
		body   any
		status int
		msg    string
	}{
		{map[string]any{"name": "Sandbox-01"}, 400, "invalid sandbox name"},
		{map[string]any{"name": "a_b"}, 400, "invalid sandbox name"},
		{map[string]any{"name": "-ab"}, 400, "invalid sandbox name"},
		{map[string]any{"name": strings.Repeat("a", 51)}, 400, "invalid sandbox name"},
		{map[string]any{"name": "metrics"}, 400, "reserved"},
		{map[string]any{"name": "x", "cpu": "1"}, 400, `unknown field "cpu"`},
		{map[string]any{"name": "x", "timeout": -1}, 400, "timeout"},
		{map[string]any{"name": "x", "template": "nope"}, 404, `template "nope" not found`},
		{map[string]any{"name": "x", "image": "nope:1"}, 404, "nope:1"},
		{`{"name":`, 400, "invalid JSON"},
	} {
		fails(t, s, "POST", v1+"/sandbox", c.body, c.status, c.msg)
	}
	// 50 characters is the longest name.
	ok(t, s, "POST", v1+"/sandbox", map[string]any{"name": strings.Repeat("a", 50)}, nil)
}

// TestNamedRoutesRefuse: every route that names a sandbox answers 400 for a name the rule
// refuses and 404 for one no sandbox has, in the surface's error shape.
func TestNamedRoutesRefuse(t *testing.T) {
	s := servertest.New(t)
	for _, route := range []string{
		"GET /sandbox/%s", "DELETE /sandbox/%s", "POST /sandbox/pause/%s", "POST /sandbox/resume/%s",
		"POST /terminal/sandbox/%s", "GET /terminal/sandbox/%s/ws", "GET /sandbox/files/%s",
		"POST /sandbox/files/%s/upload", "DELETE /sandbox/files/%s?path=/x", "GET /sandbox/files/%s/download?path=/x",
		"GET /logs/sandbox/%s",
	} {
		method, path, _ := strings.Cut(route, " ")
		fails(t, s, method, v1+strings.Replace(path, "%s", "nobody", 1), map[string]any{"command": "true"}, 404, "sandbox nobody not found")
		fails(t, s, method, v1+strings.Replace(path, "%s", "Bad_Name", 1), map[string]any{"command": "true"}, 400, "invalid sandbox name")
	}
}

func TestAuthAndHealth(t *testing.T) {
	s := servertest.New(t)
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/healthz", Key: servertest.NoKey})
	if resp.StatusCode != 200 || string(raw) != `{"status":"ok","version":"test"}`+"\n" {
		t.Errorf("healthz: %d %s", resp.StatusCode, raw)
	}
	resp, raw = s.Do(servertest.Request{Method: "GET", Path: v1 + "/sandbox", Key: servertest.NoKey})
	checkFailure(t, "no key", resp.StatusCode, raw, 401, "API key")
	resp, raw = s.Do(servertest.Request{Method: "GET", Path: v1 + "/nothing"})
	checkFailure(t, "no route", resp.StatusCode, raw, 404, "no route")
	resp, raw = s.Do(servertest.Request{Method: "PUT", Path: v1 + "/sandbox"})
	checkFailure(t, "wrong method", resp.StatusCode, raw, 405, "use GET, HEAD, POST")
}

func TestMetrics(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "m1")
	var res struct {
		Items map[string]struct {
			Sandbox, Pod string
			MemoryBytes  int64
			CPUMilli     int64
		}
	}
	ok(t, s, "GET", v1+"/sandbox/metrics?names=m1,nobody,m1", nil, &res)
	if it, found := res.Items["m1"]; len(res.Items) != 1 || !found || it.Sandbox != "m1" || it.Pod == "" || it.CPUMilli < 0 {
		t.Errorf("metrics: %+v", res)
	}
	ok(t, s, "POST", v1+"/sandbox/metrics", map[string]any{"names": []string{"m1"}}, &res)
	if len(res.Items) != 1 {
		t.Errorf("POST metrics: %+v", res)
	}
	fails(t, s, "GET", v1+"/sandbox/metrics", nil, 400, "names is required")
	fails(t, s, "POST", v1+"/sandbox/metrics", map[string]any{"names": []string{" "}}, 400, "names is required")
}
