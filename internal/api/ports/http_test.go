package ports_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/server/servertest"
)

// The port routes on the fake driver (no root): the fake driver's guests run on the host, so
// a port "inside" a sandbox is a loopback port of the host, where the test serves an app.

// app serves an HTTP app on the host's loopback and returns its port.
func app(t *testing.T) int {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app saw %s %s", r.Method, r.URL.RequestURI())
	}))
	t.Cleanup(hs.Close)
	return hs.Listener.Addr().(*net.TCPAddr).Port
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type sandboxView struct {
	Name, ID     string
	TrafficToken string `json:"traffic_token"`
}

func create(t *testing.T, s *servertest.Server, body map[string]any) sandboxView {
	t.Helper()
	code, env := s.Native("POST", "/sandboxes", body)
	if code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	return servertest.Data[sandboxView](t, env)
}

func TestPortRoutes(t *testing.T) {
	s := servertest.New(t)
	port := app(t)
	sb := create(t, s, map[string]any{"name": "web", "port": port})
	get := func(path, key string, h http.Header) (int, string) {
		t.Helper()
		resp, raw := s.Do(servertest.Request{Method: "GET", Path: path, Key: key, Header: h})
		return resp.StatusCode, string(raw)
	}
	for _, c := range []struct{ name, path, want string }{
		{"port route", fmt.Sprintf("/sandboxes/web/ports/%d/a/b?q=1", port), "app saw GET /a/b?q=1"},
		{"agent-sandbox route, app port", "/sandbox/web/x", "app saw GET /x"},
		{"agent-sandbox route, ?port=", fmt.Sprintf("/sandbox/web/y?port=%d", port), "app saw GET /y"},
		{"router route", fmt.Sprintf("/sandboxes/router/%s/%d/z", sb.ID, port), "app saw GET /z"},
	} {
		if code, body := get(c.path, "", nil); code != 200 || body != c.want {
			t.Errorf("%s: %d %q, want %q", c.name, code, body, c.want)
		}
	}
	path := fmt.Sprintf("/sandboxes/web/ports/%d/", port)
	if code, body := get(path, servertest.NoKey, nil); code != 401 || !strings.Contains(body, `"success":false`) {
		t.Errorf("no credential: %d %s, want 401 in the envelope", code, body)
	}
	if code, body := get(path, servertest.NoKey, http.Header{"X-Paddock-Traffic-Token": {sb.TrafficToken}}); code != 200 {
		t.Errorf("traffic token: %d %s", code, body)
	}
	if code, body := get(path+"?token="+sb.TrafficToken, servertest.NoKey, nil); code != 200 {
		t.Errorf("traffic token in the query: %d %s", code, body)
	}
	// Public ports need no credential; private again, they do.
	code, env := s.Native("PUT", fmt.Sprintf("/sandboxes/web/public-ports/%d", port), nil)
	if code != 200 || !strings.Contains(string(env.Data), `"public":true`) {
		t.Fatalf("make public: %d %s %s", code, env.Data, env.Error)
	}
	if code, body := get(path, servertest.NoKey, nil); code != 200 {
		t.Errorf("public port without a credential: %d %s", code, body)
	}
	if code, env := s.Native("DELETE", fmt.Sprintf("/sandboxes/web/public-ports/%d", port), nil); code != 200 || !strings.Contains(string(env.Data), `"public":false`) {
		t.Fatalf("make private: %d %s %s", code, env.Data, env.Error)
	}
	if code, _ := get(path, servertest.NoKey, nil); code != 401 {
		t.Errorf("private port again without a credential: %d, want 401", code)
	}
	// Errors, in the native envelope.
	for _, c := range []struct {
		name, path, key string
		code            int
		msg             string
	}{
		{"nothing listening", fmt.Sprintf("/sandboxes/web/ports/%d/", freePort(t)), "", 502, ""},
		{"bad port", "/sandboxes/web/ports/99999/", "", 400, "99999"},
		{"not a port", "/sandboxes/web/ports/http/", "", 400, "http"},
		{"unknown sandbox", fmt.Sprintf("/sandboxes/ghost/ports/%d/", port), "", 404, "ghost"},
		{"unknown sandbox, no key", fmt.Sprintf("/sandboxes/ghost/ports/%d/", port), servertest.NoKey, 401, ""},
		{"wrong traffic token", path + "?token=nope", servertest.NoKey, 401, ""},
	} {
		code, body := get(c.path, c.key, nil)
		var e servertest.Envelope
		servertest.Decode(t, []byte(body), &e)
		if code != c.code || e.Success || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: %d %s, want %d mentioning %q", c.name, code, body, c.code, c.msg)
		}
	}
	// (A sandbox never proxied to: records of recent requests are reused for a second.)
	create(t, s, map[string]any{"name": "idle"})
	if code, env := s.Native("POST", "/sandboxes/idle/stop", nil); code != 200 {
		t.Fatalf("stop: %d %s", code, env.Error)
	}
	if code, body := get(fmt.Sprintf("/sandboxes/idle/ports/%d/", port), "", nil); code != 409 || !strings.Contains(body, "stopped") {
		t.Errorf("stopped sandbox: %d %s, want 409", code, body)
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", "/sandboxes/ghost/public-ports/80"}, {"PUT", "/sandboxes/web/public-ports/70000"},
	} {
		code, env := s.Native(c.method, c.path, nil)
		if code != 404 && code != 400 {
			t.Errorf("%s %s: %d %q, want 404 or 400", c.method, c.path, code, env.Error)
		}
	}
	if code, _ := s.NativeKey("PUT", "/sandboxes/web/public-ports/80", nil, servertest.NoKey); code != 401 {
		t.Errorf("visibility without the key: %d, want 401", code)
	}
}

// TestPortRouteBody: a request body reaches the app and its answer streams back.
func TestPortRouteBody(t *testing.T) {
	s := servertest.New(t)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-App", "yes")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "%d bytes: %s", len(b), b)
	}))
	t.Cleanup(hs.Close)
	port := hs.Listener.Addr().(*net.TCPAddr).Port
	create(t, s, map[string]any{"name": "echo"})
	resp, raw := s.Do(servertest.Request{Method: "POST", Path: fmt.Sprintf("/sandboxes/echo/ports/%d/in", port), Body: "payload"})
	if resp.StatusCode != 202 || resp.Header.Get("X-App") != "yes" || string(raw) != "7 bytes: payload" {
		t.Errorf("POST through the port route: %d %q %q", resp.StatusCode, resp.Header.Get("X-App"), raw)
	}
}

// TestAutoResumeOnPortRequest: a paused sandbox created with E2B's autoResume is resumed by
// the next request on a port route, which is then answered; one without autoResume stays
// paused and the request is refused.
func TestAutoResumeOnPortRequest(t *testing.T) {
	s := servertest.New(t)
	port := app(t)
	create := func(body map[string]any) string {
		var c struct{ SandboxID string }
		if code := s.JSON("POST", "/e2b/v1/v2/sandboxes", body, &c); code != 201 {
			t.Fatalf("create: %d", code)
		}
		if resp, raw := s.Do(servertest.Request{Method: "POST", Path: "/e2b/v1/sandboxes/" + c.SandboxID + "/pause"}); resp.StatusCode != 204 {
			t.Fatalf("pause: %d %s", resp.StatusCode, raw)
		}
		return c.SandboxID
	}
	auto := create(map[string]any{"templateID": "base", "autoPause": true, "autoResume": map[string]any{"enabled": true}})
	plain := create(map[string]any{"templateID": "base"})
	state := func(id string) string {
		code, env := s.Native("GET", "/sandboxes/"+id, nil)
		if code != 200 {
			t.Fatalf("get %s: %d", id, code)
		}
		return servertest.Data[struct{ Status string }](t, env).Status
	}
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: fmt.Sprintf("/sandboxes/%s/ports/%d/hi", auto, port)})
	if resp.StatusCode != 200 || string(raw) != "app saw GET /hi" || state(auto) != "running" {
		t.Errorf("autoResume sandbox: %d %q, now %s", resp.StatusCode, raw, state(auto))
	}
	resp, raw = s.Do(servertest.Request{Method: "GET", Path: fmt.Sprintf("/sandboxes/%s/ports/%d/hi", plain, port)})
	if resp.StatusCode != 409 || state(plain) != "paused" {
		t.Errorf("sandbox without autoResume: %d %s, now %s; want 409 and paused", resp.StatusCode, raw, state(plain))
	}
}
