package e2b_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/server/servertest"
)

// The E2B surface on the fake driver (no root): the control plane under /e2b/v1 and the data
// plane that proxies SDK traffic to the guest. The E2B SDK tests (sdktest, internal/server)
// are the integration layer above these.

const v1 = "/e2b/v1"

type created struct {
	SandboxID, TemplateID, EnvdAccessToken, ClientID string
	TrafficAccessToken                               *string
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// call sends a control-plane request with the test key (key "" = the test key).
func call(t *testing.T, s *servertest.Server, method, path string, body any, key string) (int, []byte) {
	t.Helper()
	resp, raw := s.Do(servertest.Request{Method: method, Path: v1 + path, Body: body, Key: key})
	return resp.StatusCode, raw
}

// wantError checks that raw is E2B's error shape with status code and a message holding msg.
func wantError(t *testing.T, what string, code int, raw []byte, wantCode int, msg string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(raw, &e); err != nil || code != wantCode || e.Code != wantCode || !strings.Contains(e.Message, msg) {
		t.Errorf("%s: %d %s, want %d {code, message} mentioning %q", what, code, raw, wantCode, msg)
	}
}

func createSandbox(t *testing.T, s *servertest.Server, body map[string]any) created {
	t.Helper()
	code, raw := call(t, s, "POST", "/v2/sandboxes", body, "")
	var c created
	if code != 201 || json.Unmarshal(raw, &c) != nil || c.SandboxID == "" || c.EnvdAccessToken == "" {
		t.Fatalf("create: %d %s", code, raw)
	}
	return c
}

func TestControlPlane(t *testing.T) {
	s := servertest.New(t)
	sb := createSandbox(t, s, map[string]any{"templateID": "base", "metadata": map[string]string{"owner": "test"}, "timeout": 600})
	if sb.TemplateID != "base" || sb.ClientID == "" {
		t.Errorf("created: %+v", sb)
	}
	code, raw := call(t, s, "POST", "/sandboxes", map[string]any{"templateID": "code-interpreter-v1"}, "")
	if code != 201 {
		t.Fatalf("create v1: %d %s", code, raw)
	}
	type detail struct {
		SandboxID, State string
		Metadata         map[string]string
		EnvdAccessToken  string
	}
	code, raw = call(t, s, "GET", "/sandboxes/"+sb.SandboxID, nil, "")
	var d detail
	if code != 200 || json.Unmarshal(raw, &d) != nil || d.State != "running" || d.Metadata["owner"] != "test" || d.EnvdAccessToken != sb.EnvdAccessToken {
		t.Errorf("detail: %d %s", code, raw)
	}
	code, raw = call(t, s, "GET", "/sandboxes?metadata=owner%3Dtest", nil, "")
	var listed []detail
	if code != 200 || json.Unmarshal(raw, &listed) != nil || len(listed) != 1 || listed[0].SandboxID != sb.SandboxID {
		t.Errorf("list v1 by metadata: %d %s", code, raw)
	}
	code, raw = call(t, s, "GET", "/v2/sandboxes?state=running&limit=1", nil, "")
	if code != 200 || json.Unmarshal(raw, &listed) != nil || len(listed) != 1 {
		t.Errorf("list v2, one per page: %d %s", code, raw)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/sandboxes/" + sb.SandboxID + "/timeout", map[string]any{"timeout": 900}},
		{"POST", "/sandboxes/" + sb.SandboxID + "/refreshes", map[string]any{"duration": 60}},
		{"POST", "/sandboxes/" + sb.SandboxID + "/pause", nil},
	} {
		if code, raw := call(t, s, c.method, c.path, c.body, ""); code != 204 {
			t.Errorf("%s %s: %d %s, want 204", c.method, c.path, code, raw)
		}
	}
	code, raw = call(t, s, "GET", "/v2/sandboxes?state=paused", nil, "")
	if code != 200 || json.Unmarshal(raw, &listed) != nil || len(listed) != 1 || listed[0].State != "paused" {
		t.Errorf("list paused: %d %s", code, raw)
	}
	code, raw = call(t, s, "POST", "/sandboxes/"+sb.SandboxID+"/pause", nil, "")
	wantError(t, "pause a paused sandbox", code, raw, 409, "paused")
	code, raw = call(t, s, "POST", "/sandboxes/"+sb.SandboxID+"/resume", map[string]any{"timeout": 300}, "")
	if code != 201 {
		t.Errorf("resume: %d %s", code, raw)
	}
	code, raw = call(t, s, "POST", "/sandboxes/"+sb.SandboxID+"/resume", nil, "")
	wantError(t, "resume a running sandbox", code, raw, 409, "running")
	s.Do(servertest.Request{Method: "POST", Path: v1 + "/sandboxes/" + sb.SandboxID + "/pause"})
	code, raw = call(t, s, "POST", "/sandboxes/"+sb.SandboxID+"/connect", map[string]any{"timeout": 300}, "")
	var conn created
	if code/100 != 2 || json.Unmarshal(raw, &conn) != nil || conn.SandboxID != sb.SandboxID {
		t.Errorf("connect to a paused sandbox: %d %s", code, raw)
	}
	code, raw = call(t, s, "POST", "/v2/sandboxes/"+sb.SandboxID+"/connect", map[string]any{"timeout": 300}, "")
	if code/100 != 2 || json.Unmarshal(raw, &conn) != nil || conn.SandboxID != sb.SandboxID {
		t.Errorf("connect v2 to a running sandbox: %d %s", code, raw)
	}
	code, raw = call(t, s, "GET", "/sandboxes/"+sb.SandboxID+"/metrics", nil, "")
	var metrics []map[string]any
	if code != 200 || json.Unmarshal(raw, &metrics) != nil || len(metrics) == 0 {
		t.Errorf("metrics: %d %s", code, raw)
	}
	code, raw = call(t, s, "PUT", "/sandboxes/"+sb.SandboxID+"/network", map[string]any{"allowOut": []string{"192.0.2.1"}, "denyOut": []string{"0.0.0.0/0"}}, "")
	if code/100 != 2 {
		t.Errorf("network: %d %s", code, raw)
	}
	if code, raw := call(t, s, "DELETE", "/sandboxes/"+sb.SandboxID, nil, ""); code != 204 {
		t.Errorf("kill: %d %s", code, raw)
	}
	code, raw = call(t, s, "GET", "/sandboxes/"+sb.SandboxID, nil, "")
	wantError(t, "detail after kill", code, raw, 404, sb.SandboxID)
}

// TestNativeSandboxOnE2B: a sandbox made on the native surface is found, listed and killed
// on E2B's (the same guest serves both), with its template ("base" when it has none).
func TestNativeSandboxOnE2B(t *testing.T) {
	s := servertest.New(t)
	code, env := s.Native("POST", "/sandboxes", map[string]any{"name": "native"})
	if code != 201 {
		t.Fatalf("native create: %d %s", code, env.Error)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(env.Data, &created); err != nil {
		t.Fatal(err)
	}
	code, raw := call(t, s, "GET", "/sandboxes/"+created.ID, nil, "")
	var d struct{ SandboxID, TemplateID, State string }
	if err := json.Unmarshal(raw, &d); code != 200 || err != nil || d.SandboxID != created.ID || d.TemplateID != "base" || d.State != "running" {
		t.Fatalf("detail: %d %s", code, raw)
	}
	code, raw = call(t, s, "GET", "/v2/sandboxes?template=base", nil, "")
	if code != 200 || !strings.Contains(string(raw), created.ID) {
		t.Errorf("list: %d %s", code, raw)
	}
	if code, raw := call(t, s, "DELETE", "/sandboxes/"+created.ID, nil, ""); code != 204 {
		t.Errorf("kill: %d %s", code, raw)
	}
	if code, _ := s.Native("GET", "/sandboxes/native", nil); code != 404 {
		t.Errorf("native get after an E2B kill: %d", code)
	}
}

// TestControlPlaneErrors: the main errors of each route, all in E2B's {code, message}.
func TestControlPlaneErrors(t *testing.T) {
	s := servertest.New(t)
	for _, c := range []struct {
		name, method, path string
		body               any
		code               int
		msg                string
	}{
		{"unknown template", "POST", "/v2/sandboxes", map[string]any{"templateID": "nope"}, 404, "nope"},
		{"zero timeout", "POST", "/v2/sandboxes", map[string]any{"timeout": 0}, 400, "Timeout"},
		{"not json", "POST", "/v2/sandboxes", "{", 400, "JSON"},
		{"wrong type", "POST", "/v2/sandboxes", `{"timeout":"soon"}`, 400, "timeout"},
		{"unsupported option", "POST", "/v2/sandboxes", map[string]any{"volumeMounts": []any{map[string]any{"name": "v"}}}, 400, "volumeMounts"},
		{"unknown sandbox", "GET", "/sandboxes/ghost", nil, 404, "ghost"},
		{"kill unknown", "DELETE", "/sandboxes/ghost", nil, 404, "ghost"},
		{"timeout unknown", "POST", "/sandboxes/ghost/timeout", map[string]any{"timeout": 5}, 404, "ghost"},
		{"connect unknown", "POST", "/sandboxes/ghost/connect", map[string]any{}, 404, "ghost"},
		{"pause unknown", "POST", "/sandboxes/ghost/pause", nil, 404, "ghost"},
		{"metrics unknown", "GET", "/sandboxes/ghost/metrics", nil, 404, "ghost"},
		{"bad list state", "GET", "/v2/sandboxes?state=dead", nil, 400, "dead"},
		{"bad list limit", "GET", "/v2/sandboxes?limit=1000", nil, 400, "limit"},
		{"bad next token", "GET", "/v2/sandboxes?nextToken=%21%21", nil, 400, "nextToken"},
		{"not implemented", "GET", "/snapshots", nil, 501, "not supported"},
		{"unknown route", "GET", "/no/such/route", nil, 404, "no route"},
		{"unknown route at the prefix", "GET", "", nil, 404, "no route"},
		{"wrong method", "PATCH", "/sandboxes", nil, 405, "PATCH"},
	} {
		code, raw := call(t, s, c.method, c.path, c.body, "")
		wantError(t, c.name, code, raw, c.code, c.msg)
	}
	resp, _ := s.Do(servertest.Request{Method: "PATCH", Path: v1 + "/sandboxes"})
	if allow := resp.Header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("405 Allow = %q", allow)
	}
	for _, key := range []string{servertest.NoKey, "e2b_wrong"} {
		code, raw := call(t, s, "GET", "/sandboxes", nil, key)
		wantError(t, "without a valid key", code, raw, 401, "")
		code, raw = call(t, s, "GET", "/no/such/route", nil, key)
		wantError(t, "unknown route without a valid key", code, raw, 401, "")
	}
}

// dataPlane sends a request to port of sandbox id the way the SDKs address it (no API key).
func dataPlane(t *testing.T, s *servertest.Server, id string, port int, method, path, token, ctype string, body []byte) (int, []byte) {
	t.Helper()
	h := http.Header{"E2b-Sandbox-Id": {id}, "E2b-Sandbox-Port": {fmt.Sprint(port)}}
	if token != "" {
		h.Set("X-Access-Token", token)
	}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	resp, raw := s.Do(servertest.Request{Method: method, Path: path, Body: body, Key: servertest.NoKey, Header: h})
	return resp.StatusCode, raw
}

// connectStream frames one Connect server-stream request message.
func connectStream(msg string) []byte {
	env := make([]byte, 5)
	binary.BigEndian.PutUint32(env[1:], uint32(len(msg)))
	return append(env, msg...)
}

func TestDataPlane(t *testing.T) {
	s := servertest.New(t)
	sb := createSandbox(t, s, map[string]any{"templateID": "base", "envVars": map[string]string{"GREETING": "hello"}})
	tok := sb.EnvdAccessToken
	if code, raw := dataPlane(t, s, sb.SandboxID, 49983, "GET", "/health", "", "", nil); code/100 != 2 {
		t.Errorf("envd health: %d %s", code, raw)
	}
	if code, raw := dataPlane(t, s, sb.SandboxID, 49983, "GET", "/envs", tok, "", nil); code != 200 || !strings.Contains(string(raw), "hello") {
		t.Errorf("envs: %d %s", code, raw)
	}
	if code, raw := dataPlane(t, s, sb.SandboxID, 49983, "GET", "/envs", "", "", nil); code != 401 {
		t.Errorf("envs without the token: %d %s, want 401", code, raw)
	}
	// A process through envd's Connect API: its output comes back base64 in the stream.
	start := connectStream(`{"process":{"cmd":"/bin/sh","args":["-c","echo $GREETING from envd"]}}`)
	code, raw := dataPlane(t, s, sb.SandboxID, 49983, "POST", "/process.Process/Start", tok, "application/connect+json", start)
	if want := base64.StdEncoding.EncodeToString([]byte("hello from envd\n")); code != 200 || !strings.Contains(string(raw), want) {
		t.Errorf("process Start: %d %s", code, raw)
	}
	// Files: upload (multipart, as the SDKs do), then read back, and stat through Connect.
	dir := servertest.Dir(t)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "a.txt")
	fw.Write([]byte("uploaded"))
	mw.Close()
	code, raw = dataPlane(t, s, sb.SandboxID, 49983, "POST", "/files?path="+dir+"/a.txt", tok, mw.FormDataContentType(), form.Bytes())
	if code != 200 {
		t.Fatalf("upload: %d %s", code, raw)
	}
	if code, raw := dataPlane(t, s, sb.SandboxID, 49983, "GET", "/files?path="+dir+"/a.txt", tok, "", nil); code != 200 || string(raw) != "uploaded" {
		t.Errorf("download: %d %q", code, raw)
	}
	// Older SDKs send /files without the sandbox headers: the access token alone finds the
	// sandbox (the store's index); another token finds none and falls through to the API.
	for _, c := range []struct {
		token string
		code  int
	}{{tok, 200}, {"not-a-token", 401}} {
		resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/files?path=" + dir + "/a.txt", Key: servertest.NoKey,
			Header: http.Header{"X-Access-Token": {c.token}}})
		if resp.StatusCode != c.code || c.code == 200 && string(raw) != "uploaded" {
			t.Errorf("header-less download with token %q: %d %q, want %d", c.token, resp.StatusCode, raw, c.code)
		}
	}
	code, raw = dataPlane(t, s, sb.SandboxID, 49983, "POST", "/filesystem.Filesystem/Stat", tok, "application/json", []byte(`{"path":"`+dir+`/a.txt"}`))
	if code != 200 || !strings.Contains(string(raw), `"size":"8"`) {
		t.Errorf("stat: %d %s", code, raw)
	}
	// Code through the code interpreter's port (bash: only a shell is needed on the host).
	code, raw = dataPlane(t, s, sb.SandboxID, 49999, "POST", "/execute", tok, "application/json", []byte(`{"code":"echo $((6*7))","language":"bash"}`))
	if code != 200 || !strings.Contains(string(raw), "42") {
		t.Errorf("execute: %d %s", code, raw)
	}
	// Errors of the data plane: each port keeps to its protocol; unknown sandboxes are 502.
	for _, c := range []struct {
		name, id string
		port     int
		method   string
		path     string
		want     int
	}{
		{"init on envd", sb.SandboxID, 49983, "POST", "/init", 404},
		{"execute on envd", sb.SandboxID, 49983, "POST", "/execute", 404},
		{"envd route on the interpreter", sb.SandboxID, 49999, "GET", "/envs", 404},
		{"unknown sandbox", "ghost", 49983, "GET", "/health", 502},
	} {
		code, raw := dataPlane(t, s, c.id, c.port, c.method, c.path, tok, "application/json", []byte("{}"))
		var e apiError
		if code != c.want || json.Unmarshal(raw, &e) != nil || e.Code != c.want || e.Message == "" {
			t.Errorf("%s: %d %s, want %d {code, message}", c.name, code, raw, c.want)
		}
	}
}
