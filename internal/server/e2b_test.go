package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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
	if json.Unmarshal(body, &metrics) != nil || len(metrics) == 0 {
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
		{"POST", "/e2b/v1/sandboxes", map[string]any{"autoPauseMemory": false}, testKey, 400},
		{"POST", "/e2b/v1/sandboxes", map[string]any{"network": map[string]any{"denyOut": []string{"10.0.0.0/40"}}}, testKey, 400},
		{"POST", "/e2b/v1/sandboxes", map[string]any{"network": map[string]any{"egressProxy": map[string]any{"address": "x"}}}, testKey, 400},
		{"PUT", "/e2b/v1/sandboxes/" + sb.SandboxID + "/network", map[string]any{"allowOut": []string{"bad entry"}}, testKey, 400},
		{"PUT", "/e2b/v1/sandboxes/nosuchsandbox/network", map[string]any{}, testKey, 404},
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

// TestE2BDataPlaneConcurrentStreamsAndHostRouting runs 200 command streams at once through
// the data plane into one sandbox, and reaches its guest by Host name alone.
func TestE2BDataPlaneConcurrentStreamsAndHostRouting(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	_, body, _ := s.e2bCall("POST", "/e2b/v1/v2/sandboxes", map[string]any{"templateID": "base"}, nil)
	var sb struct{ SandboxID, EnvdAccessToken string }
	_ = json.Unmarshal(body, &sb)
	const n = 200
	errs := make(chan error, n)
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := []byte(fmt.Sprintf(`{"process":{"cmd":"/bin/sh","args":["-c","sleep 1; echo stream-%d"]},"stdin":false}`, i))
			env := make([]byte, 5)
			binary.BigEndian.PutUint32(env[1:], uint32(len(msg)))
			req, _ := http.NewRequest("POST", s.url+"/process.Process/Start", bytes.NewReader(append(env, msg...)))
			req.Header.Set("Content-Type", "application/connect+json")
			req.Header.Set("E2b-Sandbox-Id", sb.SandboxID)
			req.Header.Set("E2b-Sandbox-Port", "49983")
			req.Header.Set("X-Access-Token", sb.EnvdAccessToken)
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			out, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("stream-%d\n", i)))
			if err != nil || !bytes.Contains(out, []byte(want)) || !bytes.Contains(out, []byte(`"end"`)) {
				errs <- fmt.Errorf("stream %d: %v %q", i, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Host-based routing: "<port>-<id>.<domain>" with no E2B headers.
	req, _ := http.NewRequest("GET", s.url+"/health", nil)
	req.Host = "49983-" + sb.SandboxID + ".sandbox.paddock.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("host-routed /health: %d, want the guest's 204", resp.StatusCode)
	}
}

// TestE2BPausedSandboxDoesNotTimeOut pauses a sandbox with a 1 s timeout, waits past it,
// and connects: the sandbox is still there, resumes with a fresh deadline and works.
func TestE2BPausedSandboxDoesNotTimeOut(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	// The short deadline is set once paused: a create with it could expire before the pause
	// on a loaded machine.
	sb := s.e2bCreate(map[string]any{"templateID": "base", "timeout": 300})
	if code, body, _ := s.e2bCall("POST", "/e2b/v1/sandboxes/"+sb.SandboxID+"/pause", nil, nil); code != 204 {
		t.Fatalf("pause: %d %s", code, body)
	}
	if code, body, _ := s.e2bCall("POST", "/e2b/v1/sandboxes/"+sb.SandboxID+"/timeout", map[string]any{"timeout": 1}, nil); code != 204 {
		t.Fatalf("set timeout while paused: %d %s", code, body)
	}
	// Many reaper rounds (every 50 ms here) pass the deadline.
	time.Sleep(1500 * time.Millisecond)
	code, body, _ := s.e2bCall("GET", "/e2b/v1/sandboxes/"+sb.SandboxID, nil, nil)
	var info struct {
		State string    `json:"state"`
		EndAt time.Time `json:"endAt"`
	}
	if code != 200 || json.Unmarshal(body, &info) != nil || info.State != "paused" {
		t.Fatalf("paused sandbox after its timeout: %d %s; want it kept, paused", code, body)
	}
	code, body, _ = s.e2bCall("POST", "/e2b/v1/sandboxes/"+sb.SandboxID+"/connect", map[string]any{"timeout": 60}, nil)
	if code != 201 {
		t.Fatalf("connect to the paused sandbox: %d %s, want 201 (resumed)", code, body)
	}
	// The deadline that passed while paused no longer applies.
	time.Sleep(300 * time.Millisecond)
	code, body, _ = s.e2bCall("GET", "/e2b/v1/sandboxes/"+sb.SandboxID, nil, nil)
	if code != 200 || json.Unmarshal(body, &info) != nil || info.State != "running" || !info.EndAt.After(time.Now().Add(30*time.Second)) {
		t.Fatalf("after connect: %d %s; want running with a deadline about 60 s away", code, body)
	}
	if code, out := s.dataPlane(sb.SandboxID, 49983, "POST", "/process.Process/Start", sb.EnvdAccessToken, "application/connect+json",
		connectStream(`{"process":{"cmd":"/bin/echo","args":["alive"]}}`)); code != 200 || !strings.Contains(out, base64.StdEncoding.EncodeToString([]byte("alive\n"))) {
		t.Errorf("exec after resume: %d %s", code, out)
	}
}
