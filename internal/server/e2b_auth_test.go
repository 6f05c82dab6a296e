package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
)

// e2bSandbox is what the tests need from a created E2B sandbox.
type e2bSandbox struct {
	SandboxID, EnvdAccessToken, TrafficAccessToken string
}

func (s *testServer) e2bCreate(body map[string]any) e2bSandbox {
	s.t.Helper()
	code, raw, _ := s.e2bCall("POST", "/e2b/v1/v2/sandboxes", body, nil)
	var sb e2bSandbox
	if code != 201 || json.Unmarshal(raw, &sb) != nil || sb.EnvdAccessToken == "" {
		s.t.Fatalf("create: %d %s", code, raw)
	}
	return sb
}

// dataPlane sends a data-plane request (no API key) to port of sandbox id.
func (s *testServer) dataPlane(id string, port int, method, path, token, ctype string, body []byte, hdr ...string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	req.Header.Set("E2b-Sandbox-Id", id)
	req.Header.Set("E2b-Sandbox-Port", fmt.Sprint(port))
	if token != "" {
		req.Header.Set("X-Access-Token", token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// connectStream frames one Connect server-stream request message.
func connectStream(msg string) []byte {
	env := make([]byte, 5)
	binary.BigEndian.PutUint32(env[1:], uint32(len(msg)))
	return append(env, msg...)
}

// TestE2BDataPlaneAuth sends requests with no API key through the data plane: without the
// sandbox's access token (missing, wrong, another sandbox's) nothing reads env vars, runs a
// process or code, and /init is never reachable on either port, not even with the token.
func TestE2BDataPlaneAuth(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	a := s.e2bCreate(map[string]any{"templateID": "base", "envVars": map[string]string{"SECRET_A": "hunter2"}})
	b := s.e2bCreate(map[string]any{"templateID": "base"})
	const marker = "pwned-by-test"
	// ran reports whether a body holds the marker's output (Connect streams carry it base64).
	ran := func(body string) bool {
		return strings.Contains(body, marker) || strings.Contains(body, base64.StdEncoding.EncodeToString([]byte(marker+"\n")))
	}
	start := connectStream(`{"process":{"cmd":"/bin/sh","args":["-c","echo ` + marker + `"]}}`)
	execute := []byte(`{"code":"echo ` + marker + `","language":"bash"}`)
	initBody := []byte(`{"accessToken":"attacker","envVars":{"SECRET_A":"replaced"}}`)
	type req struct {
		name, method, path, ctype string
		body                      []byte
	}
	envs := req{"envs", "GET", "/envs", "", nil}
	proc := req{"process Start", "POST", "/process.Process/Start", "application/connect+json", start}
	exec := req{"execute", "POST", "/execute", "application/json", execute}
	initReq := req{"init", "POST", "/init", "application/json", initBody}
	tokens := map[string]string{"missing": "", "wrong": "not-the-token", "other sandbox's": b.EnvdAccessToken}
	for _, c := range []struct {
		port int
		req  req
		// want is the status without a valid token; wantOwn the status with a's token.
		want, wantOwn int
	}{
		{49983, envs, 401, 200},
		{49983, proc, 401, 200},
		{49983, initReq, 404, 404},
		{49983, exec, 404, 404},
		{49999, envs, 404, 404},
		{49999, proc, 404, 404},
		{49999, initReq, 404, 404},
		{49999, exec, 401, 200},
		{49999, req{"tunnel via contexts path", "POST", "/contexts/../init", "application/json", initBody}, 404, 404},
	} {
		for kind, tok := range tokens {
			t.Run(fmt.Sprintf("%d %s %s token", c.port, c.req.name, kind), func(t *testing.T) {
				code, body := s.dataPlane(a.SandboxID, c.port, c.req.method, c.req.path, tok, c.req.ctype, c.req.body)
				if code != c.want || strings.Contains(body, "hunter2") || ran(body) {
					t.Fatalf("got %d %q, want %d and nothing from the guest", code, body, c.want)
				}
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if json.Unmarshal([]byte(body), &e) != nil || e.Code != c.want || e.Message == "" {
					t.Errorf("error body %q is not {code, message}", body)
				}
			})
		}
		t.Run(fmt.Sprintf("%d %s own token", c.port, c.req.name), func(t *testing.T) {
			code, body := s.dataPlane(a.SandboxID, c.port, c.req.method, c.req.path, a.EnvdAccessToken, c.req.ctype, c.req.body)
			if code != c.wantOwn {
				t.Fatalf("got %d %q, want %d", code, body, c.wantOwn)
			}
			switch {
			case code != 200:
			case c.req.name == "envs" && !strings.Contains(body, "hunter2"):
				t.Errorf("/envs with the token: %s", body)
			case c.req.name != "envs" && !ran(body):
				t.Errorf("%s with the token ran nothing: %s", c.req.name, body)
			}
		})
	}
	// /init went nowhere: the token is still a's and the env var unchanged.
	if code, body := s.dataPlane(a.SandboxID, 49983, "GET", "/envs", a.EnvdAccessToken, "", nil); code != 200 || !strings.Contains(body, "hunter2") {
		t.Errorf("after the /init attempts, /envs with a's token: %d %s", code, body)
	}
	// The code-interpreter SDK sends no token on the context routes: they pass without one,
	// but a wrong token is refused.
	if code, body := s.dataPlane(a.SandboxID, 49999, "GET", "/contexts", "", "", nil); code != 200 {
		t.Errorf("GET /contexts without a token (as the SDK sends it): %d %s", code, body)
	}
	if code, body := s.dataPlane(a.SandboxID, 49999, "GET", "/contexts", "not-the-token", "", nil); code != 401 {
		t.Errorf("GET /contexts with a wrong token: %d %s, want 401", code, body)
	}
	// With private ports, the context routes need the traffic token the SDK sends.
	p := s.e2bCreate(map[string]any{"templateID": "base", "secure": true, "network": map[string]any{"allowPublicTraffic": false}})
	if code, body := s.dataPlane(p.SandboxID, 49999, "GET", "/contexts", "", "", nil); code != 403 {
		t.Errorf("private sandbox, GET /contexts without tokens: %d %s, want 403", code, body)
	}
	if code, body := s.dataPlane(p.SandboxID, 49999, "GET", "/contexts", "", "", nil, "E2B-Traffic-Access-Token", p.TrafficAccessToken); code != 200 {
		t.Errorf("private sandbox, GET /contexts with the traffic token: %d %s", code, body)
	}
}
