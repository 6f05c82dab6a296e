package server_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
)

// Authentication, metrics and routing of the assembled server, on the fake driver (no root).

// documentedRoutes reads /openapi.json: "METHOD /path" with placeholders filled in, mapped to
// whether the document marks the route public (an empty security list).
func documentedRoutes(t *testing.T, s *servertest.Server) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Security *[]any `json:"security"`
		} `json:"paths"`
	}
	if code := s.JSON("GET", "/openapi.json", nil, &doc); code != 200 || len(doc.Paths) < 40 {
		t.Fatalf("openapi.json: %d, %d paths", code, len(doc.Paths))
	}
	out := map[string]bool{}
	for path, item := range doc.Paths {
		path = strings.ReplaceAll(path, "{port}", "8080")
		path = regexp.MustCompile(`\{[a-zA-Z]+\}`).ReplaceAllString(path, "x")
		for method, op := range item {
			out[strings.ToUpper(method)+" "+path] = op.Security != nil && len(*op.Security) == 0
		}
	}
	return out
}

// shapeOf names the error shape of a JSON body: native, e2b, kernelbox, sandcaster, or ""
// for another.
func shapeOf(raw []byte) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	switch {
	case len(m) == 2 && m["success"] == false && m["error"] != "":
		return "native"
	case len(m) == 2 && m["code"] != nil && m["message"] != nil:
		return "e2b"
	case len(m) == 1 && m["detail"] != nil:
		return "kernelbox"
	case len(m) == 1 && m["error"] != nil:
		return "sandcaster"
	}
	return ""
}

func wantShape(path string) string {
	switch {
	case strings.HasPrefix(path, "/e2b/v1"), strings.HasPrefix(path, "/api/v1"):
		return "e2b" // Agent-Sandbox's errors have E2B's shape
	case strings.HasPrefix(path, "/kernels"), strings.HasPrefix(path, "/sessions/") && strings.Contains(path, "/execute"):
		return "kernelbox"
	case path == "/query", path == "/runs", strings.HasPrefix(path, "/runs/"), strings.HasPrefix(path, "/sessions"):
		return "sandcaster"
	case path == "/api/agents", strings.HasPrefix(path, "/api/agents/"):
		return "kernelbox" // Trinity's errors are FastAPI's {"detail"}, as KernelBox's
	}
	return "native"
}

// TestAuthEveryRoute: every documented route but the public ones (/health, /docs, /redoc)
// refuses a request without
// a valid key with 401, in the shape of its surface, and records it; the key is never logged.
func TestAuthEveryRoute(t *testing.T) {
	s := servertest.New(t)
	routes := documentedRoutes(t, s)
	for route, public := range map[string]bool{"GET /health": true, "GET /docs": true, "GET /redoc": true, "GET /sandboxes": false, "GET /metrics": false} {
		if p, ok := routes[route]; !ok || p != public {
			t.Errorf("openapi.json: %s documented %v, public %v; want public %v", route, ok, p, public)
		}
	}
	refused := 0
	for route, public := range routes {
		method, path, _ := strings.Cut(route, " ")
		for _, key := range []string{servertest.NoKey, "e2b_not_the_key"} {
			resp, raw := s.Do(servertest.Request{Method: method, Path: path, Body: "{}", Key: key})
			if route == "POST /api/token" {
				// The login is public; a body that is not its form is a bad request.
				if resp.StatusCode != 400 {
					t.Errorf("%s without its form: %d %s, want 400", route, resp.StatusCode, raw)
				}
				continue
			}
			if route == "POST /webhooks/e2b" {
				// Authenticated by signature, and off without a secret (none here).
				if resp.StatusCode != 503 || shapeOf(raw) != "sandcaster" {
					t.Errorf("%s without a webhook secret: %d %s, want 503", route, resp.StatusCode, raw)
				}
				continue
			}
			if public {
				if resp.StatusCode != 200 {
					t.Errorf("%s is public, but answers %d", route, resp.StatusCode)
				}
				continue
			}
			refused++
			if resp.StatusCode != 401 || shapeOf(raw) != wantShape(path) || resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("%s with key %q: %d %s, want 401 in the %s shape", route, key, resp.StatusCode, raw, wantShape(path))
			}
		}
	}
	var evs []json.RawMessage
	var env servertest.Envelope
	s.JSON("GET", "/events?type=auth_failed&limit=10000", nil, &env)
	json.Unmarshal(env.Data, &evs)
	// At most 60 failures a minute are written (the next one says how many were dropped).
	if len(evs) != min(refused, 60) {
		t.Errorf("%d auth_failed events for %d refusals, want %d", len(evs), refused, min(refused, 60))
	}
	if strings.Contains(s.Logs.String(), servertest.Key) || strings.Contains(s.Logs.String(), "e2b_not_the_key") {
		t.Error("a presented key appears in the logs")
	}
}

// TestNoAuth: with authentication off, the same routes answer without a key.
func TestNoAuth(t *testing.T) {
	s := servertest.New(t, func(c *config.Config) { c.NoAuth = true })
	for _, path := range []string{"/sandboxes", "/kernels", "/e2b/v1/sandboxes", "/events"} {
		if resp, raw := s.Do(servertest.Request{Method: "GET", Path: path, Key: servertest.NoKey}); resp.StatusCode != 200 {
			t.Errorf("GET %s without a key: %d %s", path, resp.StatusCode, raw)
		}
	}
}

// TestUnknownRoutesBySurface: a path no route has answers 404, a known path with a wrong
// method 405 with Allow, each in the error shape of the surface the path belongs to.
func TestUnknownRoutesBySurface(t *testing.T) {
	s := servertest.New(t)
	for _, c := range []struct {
		method, path string
		code         int
		shape, allow string
	}{
		{"GET", "/nope", 404, "native", ""},
		{"GET", "/sandboxes/x/nothing", 404, "native", ""},
		{"POST", "/health", 405, "native", "GET, HEAD"},
		{"DELETE", "/run", 405, "native", "POST"},
		{"GET", "/e2b/v1", 404, "e2b", ""},
		{"GET", "/e2b/v1/nope", 404, "e2b", ""},
		{"DELETE", "/e2b/v1/v2/sandboxes", 405, "e2b", "GET, HEAD, POST"},
		{"GET", "/kernels/x/nope", 404, "kernelbox", ""},
		{"GET", "/sessions/x/execute", 405, "kernelbox", "POST"},
		{"PUT", "/sessions", 405, "sandcaster", "GET, HEAD, POST"},
		{"GET", "/sessions/x/nope", 404, "sandcaster", ""},
		{"GET", "/webhooks/e2b", 405, "sandcaster", "POST"},
		{"GET", "/api/agents/x/nope", 404, "kernelbox", ""},
		{"PATCH", "/api/agents", 405, "kernelbox", "GET, HEAD, POST"},
		{"GET", "/api/agents/x/rename", 405, "kernelbox", "PUT"},
	} {
		resp, raw := s.Do(servertest.Request{Method: c.method, Path: c.path})
		if resp.StatusCode != c.code || shapeOf(raw) != c.shape || resp.Header.Get("Allow") != c.allow ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s (Allow %q), want %d in the %s shape (Allow %q)", c.method, c.path, resp.StatusCode, raw,
				resp.Header.Get("Allow"), c.code, c.shape, c.allow)
		}
	}
	// Paths the mux cleans are still redirected, not refused.
	if resp, _ := s.Do(servertest.Request{Method: "GET", Path: "/sandboxes/../sandboxes"}); resp.StatusCode != 200 {
		t.Errorf("a path with .. : %d, want the redirect followed to 200", resp.StatusCode)
	}
}

func TestMetricsOnFake(t *testing.T) {
	s := servertest.New(t)
	if code, env := s.Native("POST", "/run", map[string]any{"command": []string{"true"}}); code != 200 {
		t.Fatalf("run: %d %s", code, env.Error)
	}
	s.Native("POST", "/sandboxes", map[string]any{"name": "kept"})
	s.Do(servertest.Request{Method: "GET", Path: "/nope"})
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/metrics"})
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, m := range []string{`paddock_sandboxes{state="running"} 1`,
		`paddock_http_request_duration_seconds_bucket{code="OK",route="POST /run"`,
		`paddock_http_request_duration_seconds_bucket{code="Not Found",route="unmatched"`,
		`paddock_audit_events_total{type="command_executed"} 1`, `paddock_audit_events_total{type="sandbox_created"} 2`,
		"paddock_exec_duration_seconds_count 1"} {
		if !strings.Contains(string(raw), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if resp, _ := s.Do(servertest.Request{Method: "GET", Path: "/metrics", Key: servertest.NoKey}); resp.StatusCode != 401 {
		t.Errorf("metrics without a key: %d, want 401", resp.StatusCode)
	}
}
