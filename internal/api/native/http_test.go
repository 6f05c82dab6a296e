package native_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
)

// The native surface, route by route, on the fake driver (no root): the real-runc tests in
// internal/server are the integration layer above these.

type sandboxView struct {
	Name      string     `json:"name"`
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Backend   string     `json:"backend"`
	ExpiresAt *time.Time `json:"expires_at"`
	AllowOut  []string   `json:"allow_out"`
	Labels    map[string]string
}

type execOut struct {
	Sandbox  string `json:"sandbox"`
	Output   string `json:"output"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int    `json:"exit_code"`
	TimedOut bool   `json:"timed_out"`
	Reason   string `json:"reason"`
}

type batchOut struct {
	Results []struct {
		Output   string
		Error    *string
		ExitCode *int `json:"exit_code"`
	}
}

func create(t *testing.T, s *servertest.Server, name string) sandboxView {
	t.Helper()
	code, env := s.Native("POST", "/sandboxes", map[string]any{"name": name})
	if code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, code, env.Error)
	}
	return servertest.Data[sandboxView](t, env)
}

func TestSandboxLifecycle(t *testing.T) {
	s := servertest.New(t)
	sb := create(t, s, "box")
	if sb.Status != "running" || sb.Backend != "fake" || sb.ID == "" {
		t.Fatalf("created: %+v", sb)
	}
	for _, key := range []string{"box", sb.ID} {
		if code, env := s.Native("GET", "/sandboxes/"+key, nil); code != 200 || servertest.Data[sandboxView](t, env).ID != sb.ID {
			t.Errorf("get by %s: %d %s", key, code, env.Data)
		}
	}
	_, env := s.Native("GET", "/sandboxes", nil)
	if list := servertest.Data[[]sandboxView](t, env); len(list) != 1 || list[0].Name != "box" {
		t.Errorf("list: %+v", list)
	}
	code, env := s.Native("POST", "/sandboxes/box/stop", nil)
	if code != 200 || servertest.Data[sandboxView](t, env).Status != "stopped" {
		t.Fatalf("stop: %d %s %s", code, env.Data, env.Error)
	}
	if code, env := s.Native("POST", "/sandboxes/box/exec", map[string]any{"command": []string{"true"}}); code != 409 || !strings.Contains(env.Error, "stopped") {
		t.Errorf("exec on a stopped sandbox: %d %q, want 409", code, env.Error)
	}
	if code, env := s.Native("POST", "/sandboxes/box/exec/stream", map[string]any{"command": []string{"true"}}); code != 409 {
		t.Errorf("exec/stream on a stopped sandbox: %d %q, want 409", code, env.Error)
	}
	code, env = s.Native("POST", "/sandboxes/box/start", nil)
	if code != 200 || servertest.Data[sandboxView](t, env).Status != "running" {
		t.Fatalf("start: %d %s %s", code, env.Data, env.Error)
	}
	before := time.Now()
	code, env = s.Native("POST", "/sandboxes/box/extend", map[string]any{"by": "1h"})
	if exp := servertest.Data[sandboxView](t, env).ExpiresAt; code != 200 || exp == nil || exp.Before(before.Add(59*time.Minute)) {
		t.Errorf("extend: %d %s %s", code, env.Data, env.Error)
	}
	code, env = s.Native("PUT", "/sandboxes/box/network", map[string]any{"allow_out": []string{"192.0.2.0/24"}})
	if got := servertest.Data[sandboxView](t, env).AllowOut; code != 200 || len(got) != 1 || got[0] != "192.0.2.0/24" {
		t.Errorf("network: %d %s %s", code, env.Data, env.Error)
	}
	if code, env := s.Native("PUT", "/sandboxes/box/network", map[string]any{"allow_out": []string{"not a cidr!"}}); code != 400 {
		t.Errorf("bad network policy: %d %q, want 400", code, env.Error)
	}
	code, env = s.Native("DELETE", "/sandboxes/box", nil)
	if code != 200 || !strings.Contains(string(env.Data), `"deleted":true`) {
		t.Fatalf("delete: %d %s %s", code, env.Data, env.Error)
	}
	if code, env := s.Native("GET", "/sandboxes/box", nil); code != 404 || !strings.Contains(env.Error, "box") {
		t.Errorf("get after delete: %d %q, want 404 naming it", code, env.Error)
	}
	if code, _ := s.Native("DELETE", "/sandboxes/box", nil); code != 404 {
		t.Errorf("delete twice: %d, want 404", code)
	}
	// The lifecycle is in the sandbox's audit log.
	code, env = s.Native("GET", "/sandboxes/box/logs", nil)
	var types []string
	for _, e := range servertest.Data[[]struct{ Event string }](t, env) {
		types = append(types, e.Event)
	}
	if got := strings.Join(types, ","); code != 200 || !strings.HasPrefix(got, "sandbox_created,") || !strings.HasSuffix(got, "sandbox_removed") {
		t.Errorf("logs: %d %s", code, got)
	}
}

func TestExec(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "box")
	exec := func(body map[string]any) execOut {
		t.Helper()
		code, env := s.Native("POST", "/sandboxes/box/exec", body)
		if code != 200 {
			t.Fatalf("exec %v: %d %s", body, code, env.Error)
		}
		return servertest.Data[execOut](t, env)
	}
	if out := exec(map[string]any{"command": []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}); out.Stdout != "out\n" || out.Stderr != "err\n" || out.ExitCode != 3 {
		t.Errorf("exit 3: %+v", out)
	}
	if out := exec(map[string]any{"command": []string{"cat"}, "stdin": "piped"}); out.Stdout != "piped" {
		t.Errorf("stdin: %+v", out)
	}
	dir := servertest.Dir(t)
	if out := exec(map[string]any{"command": []string{"sh", "-c", "echo $GREETING; pwd"}, "env": map[string]string{"GREETING": "hi"}, "cwd": dir}); out.Stdout != "hi\n"+dir+"\n" {
		t.Errorf("env and cwd: %+v", out)
	}
	if out := exec(map[string]any{"command": []string{"no-such-command-xyz"}}); out.ExitCode != 127 || !strings.Contains(out.Stderr, "not found") {
		t.Errorf("missing command: %+v", out)
	}
	if out := exec(map[string]any{"command": []string{"sleep", "30"}, "timeout": 0.2}); out.ExitCode != 124 || !out.TimedOut || out.Reason == "" {
		t.Errorf("timeout: %+v", out)
	}
	resp, body := s.Do(servertest.Request{Method: "POST", Path: "/sandboxes/box/exec/stream",
		Body: map[string]any{"command": []string{"sh", "-c", "echo one; echo two >&2; exit 5"}}})
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("exec/stream: %d %s", resp.StatusCode, ct)
	}
	evs := servertest.Events(body)
	var stdout, stderr string
	for _, e := range evs {
		if e.Name == "output" {
			var o struct{ Content, Stream string }
			servertest.Decode(t, []byte(e.Data), &o)
			if o.Stream == "stdout" {
				stdout += o.Content
			} else {
				stderr += o.Content
			}
		}
	}
	if len(evs) < 2 || evs[0].Name != "started" || evs[len(evs)-1].Name != "done" || evs[len(evs)-1].Data != `{"exit_code":5}` ||
		stdout != "one\n" || stderr != "two\n" {
		t.Errorf("exec/stream events: %+v", evs)
	}
}

func TestRun(t *testing.T) {
	s := servertest.New(t)
	code, env := s.Native("POST", "/run", map[string]any{"command": []string{"sh", "-c", "echo ran"}})
	out := servertest.Data[execOut](t, env)
	if code != 200 || out.Stdout != "ran\n" || !strings.HasPrefix(out.Sandbox, "run-") {
		t.Fatalf("run: %d %+v %s", code, out, env.Error)
	}
	code, env = s.Native("POST", "/run", map[string]any{"command": []string{"true"}, "fast": false, "template": "base"})
	if code != 200 {
		t.Errorf("dedicated run from a template: %d %s", code, env.Error)
	}
	if code, env := s.Native("POST", "/run", map[string]any{"command": []string{"true"}, "template": "nope"}); code != 404 || !strings.Contains(env.Error, "nope") {
		t.Errorf("unknown template: %d %q, want 404 naming it", code, env.Error)
	}
	if code, env := s.Native("POST", "/run", map[string]any{"command": []string{"true"}, "image": "nope:1"}); code != 404 || !strings.Contains(env.Error, "nope:1") {
		t.Errorf("unknown image: %d %q, want 404 naming it", code, env.Error)
	}
	code, env = s.Native("POST", "/batch/run", map[string]any{"commands": []map[string]any{
		{"command": []string{"echo", "a"}}, {"command": []string{"sh", "-c", "exit 2"}}, {"command": []string{"true"}, "profile": "yolo"}}})
	batch := servertest.Data[batchOut](t, env)
	if code != 200 || len(batch.Results) != 3 || batch.Results[0].Output != "a\n" || *batch.Results[1].ExitCode != 2 ||
		batch.Results[2].Error == nil || !strings.Contains(*batch.Results[2].Error, "yolo") {
		t.Errorf("batch: %d %s", code, env.Data)
	}
	resp, body := s.Do(servertest.Request{Method: "POST", Path: "/run/stream", Body: map[string]any{"command": []string{"echo", "streamed"}}})
	evs := servertest.Events(body)
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); resp.StatusCode != 200 || got != "started,progress,progress,progress,output,done" {
		t.Errorf("run/stream: %d %s", resp.StatusCode, got)
	}
	// Run sandboxes are deleted once the answer is out.
	servertest.Eventually(t, "run sandboxes deleted", func() bool {
		_, env := s.Native("GET", "/sandboxes", nil)
		return len(servertest.Data[[]sandboxView](t, env)) == 0
	})
}

func TestFiles(t *testing.T) {
	s := servertest.New(t, func(c *config.Config) { c.MaxFileBytes = 1024 })
	create(t, s, "box")
	dir := servertest.Dir(t)
	p := "/sandboxes/box/files" + dir + "/a.txt"
	code, env := s.Native("PUT", p, map[string]any{"content": "hello"})
	if code != 200 || !strings.Contains(string(env.Data), `"size":5`) {
		t.Fatalf("write: %d %s %s", code, env.Data, env.Error)
	}
	type file struct{ Path, Encoding, Content string }
	code, env = s.Native("GET", p, nil)
	if f := servertest.Data[file](t, env); code != 200 || f.Content != "hello" || f.Path != dir+"/a.txt" {
		t.Errorf("read: %d %s", code, env.Data)
	}
	s.Native("PUT", p, map[string]any{"content": "AP8=", "encoding": "base64"})
	code, env = s.Native("GET", p, nil)
	if f := servertest.Data[file](t, env); code != 200 || f.Encoding != "base64" || f.Content != "AP8=" {
		t.Errorf("read binary: %d %s", code, env.Data)
	}
	if code, env := s.Native("DELETE", p, nil); code != 200 {
		t.Errorf("delete: %d %s", code, env.Error)
	}
	if code, env := s.Native("GET", p, nil); code != 404 {
		t.Errorf("read a deleted file: %d %q, want 404", code, env.Error)
	}
	if code, env := s.Native("GET", "/sandboxes/ghost/files"+dir+"/a.txt", nil); code != 404 || !strings.Contains(env.Error, "ghost") {
		t.Errorf("unknown sandbox: %d %q, want 404", code, env.Error)
	}
	if code, env := s.Native("PUT", p, map[string]any{"content": strings.Repeat("x", 1100)}); code != 413 {
		t.Errorf("file over the limit: %d %q, want 413", code, env.Error)
	}
}

// TestBadInput: each route's main errors, with the status and a message naming the problem.
func TestBadInput(t *testing.T) {
	s := servertest.New(t, func(c *config.Config) { c.MaxBodyBytes = 4096 })
	create(t, s, "box")
	create(t, s, "stopped")
	s.Native("POST", "/sandboxes/stopped/stop", nil)
	if code, env := s.Native("POST", "/sandboxes", map[string]any{"name": "offline", "network": "none"}); code != 201 {
		t.Fatalf("create offline: %d %s", code, env.Error)
	}
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
		{"bad memory", "POST", "/sandboxes", `{"name":"m","memory_mb":-4}`, 400, "memory"},
		{"bad ttl", "POST", "/sandboxes", `{"name":"t","ttl":"soon"}`, 400, "ttl"},
		{"wrong type", "POST", "/sandboxes", `{"name":5}`, 400, `"name"`},
		{"unknown template", "POST", "/sandboxes", `{"name":"u","template":"nope"}`, 404, "nope"},
		{"not json", "POST", "/run", `{command`, 400, "invalid JSON"},
		{"empty body", "POST", "/run", ``, 400, "empty"},
		{"trailing data", "POST", "/run", `{"command":["true"]} {}`, 400, "unexpected data"},
		{"missing command", "POST", "/run", `{}`, 400, "command is required"},
		{"negative timeout", "POST", "/sandboxes/box/exec", `{"command":["true"],"timeout":-1}`, 400, "timeout"},
		{"too large", "POST", "/run", `{"command":["echo","` + big + `"]}`, 413, "exceeds"},
		{"unknown sandbox exec", "POST", "/sandboxes/ghost/exec", `{"command":["true"]}`, 404, "ghost"},
		{"unknown sandbox get", "GET", "/sandboxes/ghost", nil, 404, "ghost"},
		{"unknown sandbox stop", "POST", "/sandboxes/ghost/stop", nil, 404, "ghost"},
		{"unknown sandbox logs", "GET", "/sandboxes/ghost/logs", nil, 404, "ghost"},
		{"wrong state", "POST", "/sandboxes/stopped/exec", `{"command":["true"]}`, 409, "stopped"},
		{"egress policy without a network", "PUT", "/sandboxes/offline/network", `{"allow_out":["192.0.2.1"]}`, 409, "none"},
		{"bad encoding", "PUT", "/sandboxes/box/files/tmp/a", `{"content":"x","encoding":"rot13"}`, 400, "rot13"},
		{"bad base64", "PUT", "/sandboxes/box/files/tmp/a", `{"content":"!!","encoding":"base64"}`, 400, "base64"},
		{"missing content", "PUT", "/sandboxes/box/files/tmp/a", `{}`, 400, "content"},
		{"empty batch", "POST", "/batch/run", `{"commands":[]}`, 400, "commands"},
		{"bad extend", "POST", "/sandboxes/box/extend", `{"by":"-1h"}`, 400, "extension"},
		{"unparsable extend", "POST", "/sandboxes/box/extend", `{"by":"later"}`, 400, "later"},
		{"bad events time", "GET", "/events?since=yesterday", nil, 400, "since"},
		{"bad events limit", "GET", "/events?limit=0", nil, 400, "limit"},
		{"unknown template get", "GET", "/templates/nope", nil, 404, "nope"},
		{"pull without ref", "POST", "/images/pull", `{}`, 400, "ref is required"},
		{"import without name", "POST", "/images/import", "x", 400, "name is required"},
		{"remove unknown image", "DELETE", "/images/nope:1", nil, 404, "nope:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, env := s.Native(c.method, c.path, c.body)
			if code != c.code || !strings.Contains(env.Error, c.msg) {
				t.Errorf("%d %q, want %d mentioning %q", code, env.Error, c.code, c.msg)
			}
		})
	}
}

// TestAuth: every route but /health and /docs needs the key, and a refusal is an envelope.
func TestAuth(t *testing.T) {
	s := servertest.New(t)
	routes := []struct{ method, path string }{
		{"GET", "/sandboxes"}, {"POST", "/sandboxes"}, {"GET", "/sandboxes/x"}, {"DELETE", "/sandboxes/x"},
		{"POST", "/sandboxes/x/stop"}, {"POST", "/sandboxes/x/start"}, {"POST", "/sandboxes/x/extend"},
		{"POST", "/run"}, {"POST", "/run/stream"}, {"POST", "/batch/run"}, {"POST", "/sandboxes/x/exec"},
		{"POST", "/sandboxes/x/exec/stream"}, {"GET", "/sandboxes/x/exec/attach"},
		{"GET", "/sandboxes/x/files/a"}, {"PUT", "/sandboxes/x/files/a"}, {"DELETE", "/sandboxes/x/files/a"},
		{"GET", "/sandboxes/x/logs"}, {"PUT", "/sandboxes/x/network"}, {"GET", "/events"},
		{"GET", "/images"}, {"POST", "/images/pull"}, {"DELETE", "/images/x"}, {"POST", "/images/import"},
		{"POST", "/images/prune"}, {"GET", "/templates"}, {"GET", "/templates/base"}, {"PUT", "/templates"},
		{"GET", "/no/such/route"},
	}
	for _, r := range routes {
		for _, key := range []string{servertest.NoKey, "wrong-key"} {
			if code, env := s.NativeKey(r.method, r.path, "{}", key); code != 401 || env.Success {
				t.Errorf("%s %s with key %q: %d %+v, want 401", r.method, r.path, key, code, env)
			}
		}
	}
	if code, env := s.NativeKey("GET", "/health", nil, servertest.NoKey); code != 200 || !env.Success {
		t.Errorf("health without a key: %d %+v", code, env)
	}
	resp, _ := s.Do(servertest.Request{Method: "GET", Path: "/sandboxes", Key: servertest.NoKey,
		Header: http.Header{"Authorization": {"Bearer " + servertest.Key}}})
	if resp.StatusCode != 200 {
		t.Errorf("bearer key: %d", resp.StatusCode)
	}
}

func TestEventsAndTemplates(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "box")
	code, env := s.Native("GET", "/events?type=sandbox_created&sandbox=box", nil)
	evs := servertest.Data[[]struct{ Event, Sandbox, Actor string }](t, env)
	if code != 200 || len(evs) != 1 || evs[0].Sandbox != "box" || evs[0].Actor == "" {
		t.Errorf("events: %d %s", code, env.Data)
	}
	code, env = s.Native("GET", "/templates", nil)
	type tmpl struct{ Name, Source, Image string }
	if ts := servertest.Data[[]tmpl](t, env); code != 200 || len(ts) != 2 || ts[0].Name != "base" || ts[0].Source == "" {
		t.Errorf("templates: %d %s", code, env.Data)
	}
	code, env = s.Native("PUT", "/templates", []map[string]any{{"name": "mine", "description": "test", "image": "base", "profile": "restrictive"}})
	if code != 200 || !strings.Contains(string(env.Data), `"mine"`) {
		t.Fatalf("put templates: %d %s %s", code, env.Data, env.Error)
	}
	code, env = s.Native("GET", "/templates/mine", nil)
	if tm := servertest.Data[tmpl](t, env); code != 200 || tm.Source != "file" {
		t.Errorf("get template: %d %s", code, env.Data)
	}
	code, env = s.Native("POST", "/sandboxes", map[string]any{"name": "from-tmpl", "template": "mine"})
	if code != 201 {
		t.Errorf("create from a template: %d %s", code, env.Error)
	}
	if code, env := s.Native("PUT", "/templates", []map[string]any{{"name": "bad", "description": "test", "profile": "yolo"}}); code != 400 || !strings.Contains(env.Error, "bad") {
		t.Errorf("invalid template: %d %q, want 400 naming it", code, env.Error)
	}
}

func TestImages(t *testing.T) {
	s := servertest.New(t)
	code, env := s.Native("POST", "/images/import?name=mine:1", "an archive")
	if code != 200 || !strings.Contains(string(env.Data), `"ref":"mine:1"`) {
		t.Fatalf("import: %d %s %s", code, env.Data, env.Error)
	}
	code, env = s.Native("GET", "/images", nil)
	if list := servertest.Data[[]struct{ Ref string }](t, env); code != 200 || len(list) != 2 {
		t.Errorf("list: %d %s", code, env.Data)
	}
	if code, env := s.Native("POST", "/images/pull", map[string]any{"ref": "mine:1"}); code != 200 {
		t.Errorf("pull a present image: %d %s", code, env.Error)
	}
	resp, body := s.Do(servertest.Request{Method: "POST", Path: "/images/pull", Body: map[string]any{"ref": "nope:2"},
		Header: http.Header{"Accept": {"text/event-stream"}}})
	if evs := servertest.Events(body); resp.StatusCode != 200 || len(evs) != 1 || evs[0].Name != "error" || !strings.Contains(evs[0].Data, "nope:2") {
		t.Errorf("streamed pull of a missing image: %d %+v", resp.StatusCode, evs)
	}
	if code, env := s.Native("POST", "/sandboxes", map[string]any{"name": "img", "image": "mine:1"}); code != 201 {
		t.Errorf("create from an imported image: %d %s", code, env.Error)
	}
	if code, env := s.Native("POST", "/images/prune", nil); code != 200 || !strings.Contains(string(env.Data), "layers_removed") {
		t.Errorf("prune: %d %s %s", code, env.Data, env.Error)
	}
	if code, env := s.Native("DELETE", "/images/mine:1", nil); code != 200 {
		t.Errorf("remove: %d %s", code, env.Error)
	}
}

// TestUnknownRoutes: a path no route has is a 404, a known path with the wrong method a 405
// with Allow, both in the envelope.
func TestUnknownRoutes(t *testing.T) {
	s := servertest.New(t)
	for _, c := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/no/such/route", 404, ""},
		{"GET", "/sandboxes/box/nothing-here", 404, ""},
		{"DELETE", "/health", 405, "GET, HEAD"},
		{"PATCH", "/sandboxes", 405, "GET, HEAD, POST"},
		{"GET", "/run", 405, "POST"},
	} {
		resp, raw := s.Do(servertest.Request{Method: c.method, Path: c.path})
		var env servertest.Envelope
		err := json.Unmarshal(raw, &env)
		if resp.StatusCode != c.code || err != nil || env.Success || env.Error == "" || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q (Allow %q), want %d in the envelope (Allow %q)", c.method, c.path, resp.StatusCode, raw,
				resp.Header.Get("Allow"), c.code, c.allow)
		}
	}
}

// TestAttach drives an interactive shell through the WebSocket route with the Go client: on a
// terminal (resize, exit code), piped (stdin, EOF), and the errors before the upgrade.
func TestAttach(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "tty")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client.New(s.URL, servertest.Key)
	att, err := c.Attach(ctx, "tty", client.AttachRequest{Command: []string{"sh"}, TTY: true, Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	// until receives until the output holds want, or the exit message comes.
	var out strings.Builder
	until := func(want string) client.AttachMessage {
		t.Helper()
		for {
			m, err := att.Receive()
			if err != nil {
				t.Fatalf("receive: %v (output %q)", err, out.String())
			}
			out.Write(m.Data)
			if m.Type == "exit" || m.Type == "error" || (want != "" && strings.Contains(out.String(), want)) {
				return m
			}
		}
	}
	send := func(m client.AttachMessage) {
		if err := att.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	send(client.AttachMessage{Type: "stdin", Data: []byte("stty size; echo mark-$((6*7))\n")})
	until("mark-42")
	if !strings.Contains(out.String(), "30 100") {
		t.Errorf("terminal size: %q", out.String())
	}
	send(client.AttachMessage{Type: "resize", Rows: 50, Cols: 120})
	send(client.AttachMessage{Type: "stdin", Data: []byte("stty size; exit 3\n")})
	if m := until(""); m.Type != "exit" || m.ExitCode != 3 || !strings.Contains(out.String(), "50 120") {
		t.Errorf("end: %+v, output %q", m, out.String())
	}

	piped, err := c.Attach(ctx, "tty", client.AttachRequest{Command: []string{"sh", "-c", "cat; echo done >&2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer piped.Close()
	piped.Send(client.AttachMessage{Type: "stdin", Data: []byte("echoed\n")})
	piped.Send(client.AttachMessage{Type: "eof"})
	streams := map[string]string{}
	for {
		m, err := piped.Receive()
		if err != nil {
			t.Fatalf("receive: %v (%v)", err, streams)
		}
		if m.Type == "exit" {
			if m.ExitCode != 0 || streams["stdout"] != "echoed\n" || streams["stderr"] != "done\n" {
				t.Errorf("piped: exit %d, %v", m.ExitCode, streams)
			}
			break
		}
		streams[m.Stream] += string(m.Data)
	}

	if _, err := c.Attach(ctx, "ghost", client.AttachRequest{Command: []string{"sh"}}); !client.IsNotFound(err) {
		t.Errorf("attach to an unknown sandbox: %v", err)
	}
	s.Native("POST", "/sandboxes/tty/stop", nil)
	var cerr *client.Error
	if _, err := c.Attach(ctx, "tty", client.AttachRequest{Command: []string{"sh"}}); !errors.As(err, &cerr) || cerr.Status != 409 || !strings.Contains(cerr.Message, "stopped") {
		t.Errorf("attach to a stopped sandbox: %v, want the server's 409", err)
	}
	if resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/sandboxes/tty/exec/attach"}); resp.StatusCode != 409 || !strings.Contains(string(raw), "stopped") {
		t.Errorf("attach to a stopped sandbox: %d %s, want 409", resp.StatusCode, raw)
	}
}
