package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

var noFilter = sandbox.ListFilter{}

type execOut struct {
	Sandbox  string `json:"sandbox"`
	Output   string `json:"output"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int    `json:"exit_code"`
	Duration int64  `json:"duration_ms"`
}

func TestAuth(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	if code, env := s.call("GET", "/health", nil, "-"); code != 200 || !env.Success {
		t.Fatalf("health without key: %d", code)
	}
	routes := []struct{ method, path string }{
		{"GET", "/sandboxes"}, {"POST", "/sandboxes"}, {"GET", "/sandboxes/x"}, {"DELETE", "/sandboxes/x"},
		{"POST", "/run"}, {"POST", "/run/stream"}, {"POST", "/batch/run"}, {"POST", "/sandboxes/x/exec"},
		{"GET", "/sandboxes/x/files/a"}, {"PUT", "/sandboxes/x/files/a"}, {"GET", "/sandboxes/x/logs"},
		{"GET", "/events"}, {"GET", "/metrics"}, {"POST", "/sandboxes/x/stop"}, {"POST", "/sandboxes/x/extend"},
	}
	for _, r := range routes {
		for _, key := range []string{"-", "wrong-key"} {
			if code, env := s.call(r.method, r.path, "{}", key); code != 401 || env.Success || env.Error == "" {
				t.Errorf("%s %s with key %q: %d %+v, want 401", r.method, r.path, key, code, env)
			}
		}
	}
	// Both header forms work.
	req, _ := http.NewRequest("GET", s.url+"/sandboxes", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bearer: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	_, env := s.call("GET", "/events?type=auth_failed", nil, "")
	if evs := data[[]map[string]any](t, env); len(evs) < len(routes) {
		t.Errorf("auth_failed events: %d, want one per failed request (%d)", len(evs), 2*len(routes))
	}
	if strings.Contains(s.logs.String(), testKey) {
		t.Error("the API key appears in the logs")
	}
}

func TestAuthFailuresAreRateLimited(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	for i := 0; i < 150; i++ {
		s.call("GET", "/sandboxes", nil, "-")
	}
	_, env := s.call("GET", "/events?type=auth_failed&limit=1000", nil, "")
	if n := len(data[[]map[string]any](t, env)); n == 0 || n > 60 {
		t.Errorf("%d auth_failed events for 150 failures, want at most 60 a minute", n)
	}
}

func TestBadInput(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0; c.MaxBodyBytes = 4096; c.MaxFileBytes = 1024 })
	if code, _ := s.call("POST", "/sandboxes", map[string]any{"name": "box"}, ""); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if code, _ := s.call("POST", "/sandboxes", map[string]any{"name": "stopped"}, ""); code != 201 {
		t.Fatalf("create: %d", code)
	}
	s.call("POST", "/sandboxes/stopped/stop", nil, "")
	big := strings.Repeat("x", 5000)
	cases := []struct {
		name, method, path string
		body               any
		code               int
		msg                string
	}{
		{"unknown field", "POST", "/sandboxes", `{"name":"a","colour":"red"}`, 400, `unknown field "colour"`},
		{"missing name", "POST", "/sandboxes", `{}`, 400, "name is required"},
		{"invalid name", "POST", "/sandboxes", `{"name":"Not_Valid"}`, 400, "invalid name"},
		{"name taken", "POST", "/sandboxes", `{"name":"box"}`, 409, "taken"},
		{"bad profile", "POST", "/sandboxes", `{"name":"p","profile":"yolo"}`, 400, "yolo"},
		{"bad memory", "POST", "/sandboxes", `{"name":"m","memory_mb":-4}`, 400, "memory_mb"},
		{"bad ttl", "POST", "/sandboxes", `{"name":"t","ttl":"soon"}`, 400, "ttl"},
		{"wrong type", "POST", "/sandboxes", `{"name":5}`, 400, `"name"`},
		{"not json", "POST", "/run", `{command`, 400, "invalid JSON"},
		{"empty body", "POST", "/run", ``, 400, "empty"},
		{"missing command", "POST", "/run", `{}`, 400, "command is required"},
		{"negative timeout", "POST", "/sandboxes/box/exec", `{"command":["true"],"timeout":-1}`, 400, "timeout"},
		{"too large", "POST", "/run", `{"command":["echo","` + big + `"]}`, 413, "exceeds"},
		{"unknown sandbox", "POST", "/sandboxes/ghost/exec", `{"command":["true"]}`, 404, "ghost"},
		{"unknown sandbox get", "GET", "/sandboxes/ghost", nil, 404, "ghost"},
		{"wrong state", "POST", "/sandboxes/stopped/exec", `{"command":["true"]}`, 409, "stopped"},
		{"bad encoding", "PUT", "/sandboxes/box/files/tmp/a", `{"content":"x","encoding":"rot13"}`, 400, "rot13"},
		{"bad base64", "PUT", "/sandboxes/box/files/tmp/a", `{"content":"!!","encoding":"base64"}`, 400, "base64"},
		{"file too big", "PUT", "/sandboxes/box/files/tmp/a", `{"content":"` + strings.Repeat("y", 1100) + `"}`, 413, "limit"},
		{"missing file", "GET", "/sandboxes/box/files/nope/nope", nil, 404, "not found"},
		{"empty batch", "POST", "/batch/run", `{"commands":[]}`, 400, "commands"},
		{"bad extend", "POST", "/sandboxes/box/extend", `{"by":"-1h"}`, 400, "extension"},
		{"bad events time", "GET", "/events?since=yesterday", nil, 400, "since"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, env := s.call(c.method, c.path, c.body, "")
			if code != c.code || env.Success || !strings.Contains(env.Error, c.msg) {
				t.Errorf("%d %q, want %d mentioning %q", code, env.Error, c.code, c.msg)
			}
		})
	}
	// Nothing half-created: only the two sandboxes exist.
	_, env := s.call("GET", "/sandboxes", nil, "")
	if n := len(data[[]map[string]any](t, env)); n != 2 {
		t.Errorf("%d sandboxes after bad requests, want 2", n)
	}
}

func TestSandboxLifecycleFilesAndLogs(t *testing.T) {
	s := newTestServer(t)
	code, env := s.call("POST", "/sandboxes", map[string]any{"name": "life", "memory_mb": 256, "vcpus": 1, "profile": "moderate", "env": map[string]string{"K": "v"}}, "")
	if code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	sb := data[map[string]any](t, env)
	if sb["name"] != "life" || sb["status"] != "running" || sb["memory_mb"] != float64(256) || sb["expires_at"] != nil {
		t.Errorf("created: %v", sb)
	}
	_, env = s.call("POST", "/sandboxes/life/exec", map[string]any{"command": []string{"sh", "-c", "echo $K $X; pwd; id -un"},
		"env": map[string]string{"X": "y"}, "cwd": "/tmp", "user": "user"}, "")
	if out := data[execOut](t, env); out.Stdout != "v y\n/tmp\nuser\n" || out.ExitCode != 0 {
		t.Errorf("exec: %+v", out)
	}
	blob := make([]byte, 200_000)
	_, _ = rand.Read(blob)
	enc := base64.StdEncoding.EncodeToString(blob)
	if code, env := s.call("PUT", "/sandboxes/life/files/workspace/blob.bin", map[string]any{"content": enc, "encoding": "base64"}, ""); code != 200 {
		t.Fatalf("write: %d %s", code, env.Error)
	}
	_, env = s.call("GET", "/sandboxes/life/files/workspace/blob.bin", nil, "")
	got := data[map[string]any](t, env)
	if got["encoding"] != "base64" || got["content"] != enc {
		t.Errorf("binary round trip failed (encoding %v, %d chars)", got["encoding"], len(fmt.Sprint(got["content"])))
	}
	if code, _ := s.call("DELETE", "/sandboxes/life/files/workspace/blob.bin", nil, ""); code != 200 {
		t.Errorf("delete file: %d", code)
	}
	if code, env := s.call("POST", "/sandboxes/life/stop", nil, ""); code != 200 || data[map[string]any](t, env)["status"] != "stopped" {
		t.Errorf("stop: %d", code)
	}
	if code, env := s.call("POST", "/sandboxes/life/start", nil, ""); code != 200 || data[map[string]any](t, env)["status"] != "running" {
		t.Errorf("start: %d", code)
	}
	if code, env := s.call("POST", "/sandboxes/life/extend", map[string]any{"by": "1h"}, ""); code != 200 || data[map[string]any](t, env)["expires_at"] == nil {
		t.Errorf("extend: %d %s", code, env.Error)
	}
	_, env = s.call("GET", "/sandboxes/life/logs", nil, "")
	var types []string
	var last time.Time
	for _, ev := range data[[]struct {
		Time  time.Time `json:"timestamp"`
		Event string    `json:"event"`
		Actor string    `json:"actor"`
	}](t, env) {
		types = append(types, ev.Event)
		if ev.Time.Before(last) || ev.Actor == "" || ev.Actor == testKey {
			t.Errorf("event %+v out of order or without a proper actor", ev)
		}
		last = ev.Time
	}
	want := "sandbox_created sandbox_started command_executed file_written file_read file_deleted sandbox_stopped sandbox_started"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("logs:\n got %s\nwant %s", got, want)
	}
	if code, _ := s.call("DELETE", "/sandboxes/life", nil, ""); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := s.call("GET", "/sandboxes/life", nil, ""); code != 404 {
		t.Errorf("get after delete: %d", code)
	}
}

func TestTTLReaper(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	s.call("POST", "/sandboxes", map[string]any{"name": "brief", "ttl": "300ms"}, "")
	s.call("POST", "/sandboxes", map[string]any{"name": "sleepy", "ttl": "300ms", "on_expire": "stop"}, "")
	deadline := time.Now().Add(20 * time.Second)
	for {
		codeBrief, _ := s.call("GET", "/sandboxes/brief", nil, "")
		_, env := s.call("GET", "/sandboxes/sleepy", nil, "")
		status := data[map[string]any](t, env)["status"]
		if codeBrief == 404 && status == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the TTL: brief %d, sleepy %v", codeBrief, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, env := s.call("GET", "/events?type=sandbox_expired", nil, "")
	if n := len(data[[]map[string]any](t, env)); n != 2 {
		t.Errorf("%d sandbox_expired events, want 2", n)
	}
}

func TestRunAndBatch(t *testing.T) {
	s := newTestServer(t)
	_, env := s.call("POST", "/run", map[string]any{"command": []string{"python3", "-c", "print(1+1)"}}, "")
	if out := data[execOut](t, env); out.Output != "2\n" || out.ExitCode != 0 {
		t.Errorf("run: %+v", out)
	}
	_, env = s.call("POST", "/run", map[string]any{"command": []string{"id", "-u"}, "fast": false, "profile": "restrictive"}, "")
	if out := data[execOut](t, env); out.Stdout != "1000\n" {
		t.Errorf("dedicated restrictive run: %+v", out)
	}
	cmds := []map[string]any{}
	for i := 0; i < 10; i++ {
		cmds = append(cmds, map[string]any{"command": []string{"sh", "-c", fmt.Sprintf("sleep 0.0%d; echo %d", 9-i, i)}})
	}
	cmds[4] = map[string]any{"command": []string{"true"}, "profile": "nope"}
	_, env = s.call("POST", "/batch/run", map[string]any{"commands": cmds}, "")
	res := data[struct {
		Results []struct {
			Output string  `json:"output"`
			Error  *string `json:"error"`
		} `json:"results"`
	}](t, env).Results
	for i, r := range res {
		switch {
		case i == 4 && (r.Error == nil || !strings.Contains(*r.Error, "nope")):
			t.Errorf("result 4: %+v, want an error naming the profile", r)
		case i != 4 && (r.Error != nil || r.Output != fmt.Sprintf("%d\n", i)):
			t.Errorf("result %d: %+v (order must follow the input)", i, r)
		}
	}
	runs, err := s.srv.eng.Runs.ListRuns(context.Background(), "", 100)
	if err != nil || len(runs) != 12 || runs[0].Owner == "" {
		t.Errorf("run history: %d runs (%v), want 12 with owners", len(runs), err)
	}
	// Run sandboxes are deleted in the background right after each answer.
	s.srv.eng.WaitDiscards()
	_, env = s.call("GET", "/sandboxes", nil, "")
	if n := len(data[[]map[string]any](t, env)); n != 0 {
		t.Errorf("%d sandboxes left after runs", n)
	}
}

func TestHundredParallelRuns(t *testing.T) {
	testenv.Heavy(t) // a load test: 100 runs at once
	// Every run may go at once: this is about parallel runs, not the cap on heavy requests.
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 4; c.MaxHeavyRequests = 100 })
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, env := s.call("POST", "/run", map[string]any{"command": []string{"echo", fmt.Sprint(i)}}, "")
			var out execOut
			_ = json.Unmarshal(env.Data, &out) // not data(): no t.Fatal off the test's goroutine
			if code != 200 || out.Output != fmt.Sprintf("%d\n", i) {
				errs <- fmt.Sprintf("run %d: %d %q %s", i, code, out.Output, env.Error)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestRunStreamIsIncremental proves output is delivered while the command still runs: the
// command waits for a file that the test writes only after it has seen the first output.
func TestRunStreamIsIncremental(t *testing.T) {
	s := newTestServer(t)
	body := `{"command":["sh","-c","echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second"]}`
	req, _ := http.NewRequest("POST", s.url+"/run/stream", strings.NewReader(body))
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var events []string
	var sandboxName string
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			d := strings.TrimPrefix(line, "data: ")
			events = append(events, event+" "+d)
			if event == "started" {
				sandboxName = strings.Split(strings.Split(d, `"sandbox":"`)[1], `"`)[0]
			}
			if event == "output" && strings.Contains(d, "first") {
				// The command is blocked until this file exists: the event came while it ran.
				if code, env := s.call("PUT", "/sandboxes/"+sandboxName+"/files/tmp/go", map[string]any{"content": "go"}, ""); code != 200 {
					t.Fatalf("unblock: %d %s", code, env.Error)
				}
			}
		}
	}
	got := strings.Join(events, "\n")
	for _, want := range []string{`started {"sandbox":"run-`, `progress {"stage":"creating"}`, `progress {"stage":"starting"}`,
		`progress {"stage":"executing"}`, `output {"content":"first\n","stream":"stdout"}`,
		`output {"content":"second\n","stream":"stdout"}`, `done {"exit_code":0}`} {
		if !strings.Contains(got, want) {
			t.Errorf("stream lacks %s:\n%s", want, got)
		}
	}
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t)
	s.call("POST", "/run", map[string]any{"command": []string{"true"}}, "")
	req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	for _, m := range []string{"paddock_sandboxes{state=\"running\"}", "paddock_pool_ready", "paddock_pool_claims_total",
		"paddock_http_request_duration_seconds_bucket{code=\"OK\",route=\"POST /run\"", "paddock_audit_events_total{type=\"command_executed\"}",
		"paddock_exec_duration_seconds_count"} {
		if !strings.Contains(b.String(), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}
