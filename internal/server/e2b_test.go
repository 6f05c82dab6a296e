package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/paddock/paddock/internal/config"
)

// e2bCall sends a control-plane request with the E2B SDK's header and returns status, body
// and headers.
func (s *testServer) e2bCall(method, path string, body any, hdr map[string]string) (int, []byte, http.Header) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("X-API-KEY", testKey)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func requireKeys(t *testing.T, what string, raw json.RawMessage, keys ...string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %s", what, raw)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q, which the Python SDK requires: %s", what, k, raw)
		}
	}
}

// TestE2BWireFormats checks what the Python SDK's generated models require.
func TestE2BWireFormats(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	code, body, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base", "timeout": 60,
		"metadata": map[string]string{"team": "a b&c"}, "secure": true, "allow_internet_access": true}, nil)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	requireKeys(t, "Sandbox", body, "templateID", "sandboxID", "clientID", "envdVersion", "envdAccessToken")
	var sb struct{ SandboxID, EnvdVersion string }
	_ = json.Unmarshal(body, &sb)
	if !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(sb.SandboxID) || sb.EnvdVersion != "0.6.13" {
		t.Errorf("sandbox ID %q, envd version %q", sb.SandboxID, sb.EnvdVersion)
	}
	_, body, _ = s.e2bCall("GET", "/e2b/v1/sandboxes/"+sb.SandboxID, nil, nil)
	requireKeys(t, "SandboxDetail", body, "templateID", "sandboxID", "clientID", "startedAt", "endAt", "envdVersion",
		"cpuCount", "memoryMB", "diskSizeMB", "state")
	// The SDKs double-encode the metadata filter.
	inner := url.QueryEscape("team") + "=" + url.QueryEscape("a b&c")
	code, body, hdr := s.e2bCall("GET", "/e2b/v1/v2/sandboxes?limit=1&state=running,paused&metadata="+url.QueryEscape(inner), nil, nil)
	var listed []json.RawMessage
	if code != 200 || json.Unmarshal(body, &listed) != nil || len(listed) != 1 {
		t.Fatalf("list with metadata: %d %s", code, body)
	}
	requireKeys(t, "ListedSandbox", listed[0], "templateID", "sandboxID", "clientID", "startedAt", "endAt", "cpuCount",
		"memoryMB", "diskSizeMB", "state", "envdVersion")
	if hdr.Get("X-Next-Token") != "" {
		t.Errorf("a single match has no next page, got token %q", hdr.Get("X-Next-Token"))
	}
	s.e2bCall("POST", "/e2b/v1/v2/sandboxes", map[string]any{"templateID": "base"}, nil)
	_, _, hdr = s.e2bCall("GET", "/e2b/v1/v2/sandboxes?limit=1", nil, nil)
	next := hdr.Get("X-Next-Token")
	_, body, hdr = s.e2bCall("GET", "/e2b/v1/v2/sandboxes?limit=1&nextToken="+next, nil, nil)
	if next == "" || json.Unmarshal(body, &listed) != nil || len(listed) != 1 || hdr.Get("X-Next-Token") != "" {
		t.Errorf("pagination: token %q, page 2 %s", next, body)
	}
	_, body, _ = s.e2bCall("GET", "/e2b/v1/sandboxes/"+sb.SandboxID+"/metrics", nil, nil)
	var metrics []json.RawMessage
	if json.Unmarshal(body, &metrics) != nil || len(metrics) != 1 {
		t.Fatalf("metrics: %s", body)
	}
	requireKeys(t, "SandboxMetric", metrics[0], "timestamp", "timestampUnix", "cpuCount", "cpuUsedPct", "memUsed",
		"memTotal", "memCache", "diskUsed", "diskTotal")
	// Errors are always {"code": int, "message": string}.
	for _, c := range []struct {
		method, path string
		body         any
		key          string
		want         int
	}{
		{"GET", "/e2b/v1/sandboxes/nosuchsandbox", nil, testKey, 404},
		{"POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "nope"}, testKey, 404},
		{"POST", "/e2b/v1/sandboxes", map[string]any{"timeout": -1}, testKey, 400},
		{"POST", "/e2b/v1/sandboxes", map[string]any{"autoPause": true}, testKey, 400},
		{"POST", "/e2b/v1/sandboxes", map[string]any{"network": map[string]any{"denyOut": []string{"10.0.0.0/8"}}}, testKey, 400},
		{"POST", "/e2b/v1/sandboxes/" + sb.SandboxID + "/fork", nil, testKey, 501},
		{"GET", "/e2b/v1/v2/sandboxes", nil, "wrong", 401},
		{"POST", "/e2b/v1/sandboxes/" + sb.SandboxID + "/resume", nil, testKey, 409},
	} {
		req, _ := http.NewRequest(c.method, s.url+c.path, bytes.NewReader(mustJSON(c.body)))
		req.Header.Set("X-API-KEY", c.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Code    int     `json:"code"`
			Message *string `json:"message"`
		}
		if resp.StatusCode != c.want || json.Unmarshal(b, &e) != nil || e.Code != c.want || e.Message == nil || *e.Message == "" {
			t.Errorf("%s %s: %d %s, want %d with {code, message}", c.method, c.path, resp.StatusCode, b, c.want)
		}
	}
	// The data plane answers an unknown sandbox with E2B's 502 body.
	req, _ := http.NewRequest("GET", s.url+"/health", nil)
	req.Header.Set("E2b-Sandbox-Id", "nosuchsandbox")
	req.Header.Set("E2b-Sandbox-Port", "49983")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var nf map[string]any
	if resp.StatusCode != 502 || json.Unmarshal(b, &nf) != nil || nf["code"] != float64(502) || nf["sandboxId"] != "nosuchsandbox" {
		t.Errorf("unknown sandbox on the data plane: %d %s", resp.StatusCode, b)
	}
	if code, _, _ := s.e2bCall("DELETE", "/e2b/v1/sandboxes/"+sb.SandboxID, nil, nil); code != 204 {
		t.Errorf("kill: %d", code)
	}
}

func mustJSON(v any) []byte {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}
