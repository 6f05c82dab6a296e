package code

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/testenv"
)

func newServer(t testing.TB) (*httptest.Server, *Service) {
	t.Helper()
	svc := New(guestenv.New("0"), process.NewDirectReaper(), nil)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); svc.Close() })
	return srv, svc
}

func need(t testing.TB, bin string) {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		testenv.Require(t, "interpreters", bin+" not in PATH: apt-get install "+bin)
	}
}

type run struct {
	stdout, stderr string
	results        []map[string]any
	errors         []map[string]any
	count          float64
	types          []string
}

func execute(t testing.TB, ctx context.Context, url string, body map[string]any) run {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/execute", strings.NewReader(string(b)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("execute: %d", resp.StatusCode)
	}
	var r run
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad NDJSON line %q", sc.Text())
		}
		typ, _ := ev["type"].(string)
		r.types = append(r.types, typ)
		switch typ {
		case "stdout":
			r.stdout += ev["text"].(string)
			if ev["timestamp"] == nil {
				t.Error("stdout event without timestamp")
			}
		case "stderr":
			r.stderr += ev["text"].(string)
		case "result":
			r.results = append(r.results, ev)
		case "error":
			r.errors = append(r.errors, ev)
		case "number_of_executions":
			r.count = ev["execution_count"].(float64)
		}
	}
	if len(r.types) == 0 || r.types[len(r.types)-1] != "end_of_execution" {
		t.Errorf("stream does not end with end_of_execution: %v", r.types)
	}
	return r
}

func TestPythonCells(t *testing.T) {
	need(t, "python3")
	srv, _ := newServer(t)
	ctx := context.Background()
	r := execute(t, ctx, srv.URL, map[string]any{"code": "x = 21\nprint('hello')\nx * 2"})
	if r.stdout != "hello\n" || len(r.results) != 1 || r.results[0]["text"] != "42" || r.results[0]["is_main_result"] != true || r.count != 1 {
		t.Fatalf("first cell: %+v", r)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "x + 1"})
	if len(r.results) != 1 || r.results[0]["text"] != "22" || r.count != 2 {
		t.Errorf("state across cells: %+v", r)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "class H:\n    def _repr_html_(self): return '<b>hi</b>'\nH()"})
	if len(r.results) != 1 || r.results[0]["html"] != "<b>hi</b>" {
		t.Errorf("rich repr: %+v", r.results)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "def f():\n    return 1/0\nf()"})
	if len(r.errors) != 1 || r.errors[0]["name"] != "ZeroDivisionError" || r.errors[0]["value"] != "division by zero" ||
		!strings.Contains(r.errors[0]["traceback"].(string), "<cell>") || strings.Contains(r.errors[0]["traceback"].(string), "_run") {
		t.Errorf("error: %+v", r.errors)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "import os\nos.environ.get('ONLY_HERE')", "env_vars": map[string]string{"ONLY_HERE": "yes"}})
	if len(r.results) != 1 || r.results[0]["text"] != "yes" {
		t.Errorf("env_vars: %+v", r.results)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "os.environ.get('ONLY_HERE')"})
	if len(r.results) != 0 {
		t.Errorf("env_vars leaked into the next cell: %+v", r.results)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "import subprocess\nsubprocess.run(['echo', 'from a child'])\nNone"})
	if r.stdout != "from a child\n" {
		t.Errorf("child process output: %q", r.stdout)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"code": "def broken(:\n  pass"})
	if len(r.errors) != 1 || r.errors[0]["name"] != "SyntaxError" {
		t.Errorf("syntax error: %+v", r.errors)
	}
}

func TestInterruptKeepsState(t *testing.T) {
	need(t, "python3")
	srv, _ := newServer(t)
	execute(t, context.Background(), srv.URL, map[string]any{"code": "kept = 'still here'"})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	b, _ := json.Marshal(map[string]any{"code": "import time\nwhile True: time.sleep(0.05)"})
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/execute", strings.NewReader(string(b)))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = bufio.NewReader(resp.Body).ReadString(0) // read until the deadline cuts it off
		resp.Body.Close()
	}
	r := execute(t, context.Background(), srv.URL, map[string]any{"code": "kept"})
	if len(r.results) != 1 || r.results[0]["text"] != "still here" {
		t.Errorf("after interrupt: %+v", r)
	}
}

func TestBashContextKeepsShellState(t *testing.T) {
	need(t, "bash")
	srv, _ := newServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "cd " + dir + "; GREETING=hi; greet() { echo \"$GREETING $1\"; }"})
	r := execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "pwd; greet world; echo err >&2"})
	if r.stdout != dir+"\nhi world\n" || r.stderr != "err\n" {
		t.Errorf("bash state: %q %q", r.stdout, r.stderr)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "false"})
	if len(r.errors) != 1 || r.errors[0]["value"] != "exit status 1" {
		t.Errorf("bash exit status: %+v", r.errors)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "exit 3"})
	if len(r.errors) != 1 || r.errors[0]["name"] != "UnexpectedEndOfExecution" {
		t.Errorf("exit from the shell: %+v", r.errors)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "echo fresh"})
	if r.stdout != "fresh\n" {
		t.Errorf("after the shell exited: %q", r.stdout)
	}
}

func TestContextsAPI(t *testing.T) {
	need(t, "python3")
	srv, _ := newServer(t)
	ctx := context.Background()
	resp, err := http.Post(srv.URL+"/contexts", "application/json", strings.NewReader(`{"language":"Python"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ ID, Language, Cwd string }
	_ = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if c.ID == "" || c.Language != "python" {
		t.Fatalf("created %+v", c)
	}
	execute(t, ctx, srv.URL, map[string]any{"context_id": c.ID, "code": "v = 7"})
	if r := execute(t, ctx, srv.URL, map[string]any{"code": "'v' in dir()"}); r.results[0]["text"] != "False" {
		t.Error("the default context sees another context's variables")
	}
	if r := execute(t, ctx, srv.URL, map[string]any{"context_id": c.ID, "code": "v"}); r.results[0]["text"] != "7" {
		t.Errorf("context state: %+v", r.results)
	}
	resp, _ = http.Post(srv.URL+"/contexts/"+c.ID+"/restart", "application/json", nil)
	resp.Body.Close()
	if r := execute(t, ctx, srv.URL, map[string]any{"context_id": c.ID, "code": "'v' in dir()"}); r.results[0]["text"] != "False" {
		t.Errorf("restart kept state: %+v", r.results)
	}
	// The list holds the default python and javascript contexts, then the one made above.
	list := listContexts(t, srv.URL)
	if len(list) != 3 || list[0].Language != "python" || list[1].Language != "javascript" || list[2].ID != c.ID {
		t.Errorf("list: %+v", list)
	}
	req, _ := http.NewRequest("DELETE", srv.URL+"/contexts/"+c.ID, nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"code":"1","context_id":"` + c.ID + `"}`, 404},
		{`{"code":"1","language":"cobol"}`, 400},
		{`{"code":"1","language":"python","context_id":"x"}`, 400},
	} {
		resp, _ := http.Post(srv.URL+"/execute", "application/json", strings.NewReader(tc.body))
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.body, resp.StatusCode, tc.code)
		}
	}
}

type contextInfo struct{ ID, Language, Cwd string }

func listContexts(t *testing.T, url string) []contextInfo {
	t.Helper()
	resp, err := http.Get(url + "/contexts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []contextInfo
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list
}

func TestJavascriptCells(t *testing.T) {
	need(t, "node")
	srv, _ := newServer(t)
	ctx := context.Background()
	r := execute(t, ctx, srv.URL, map[string]any{"language": "js", "code": "let x = 21; console.log('hi')"})
	if r.stdout != "hi\n" || len(r.results) != 0 {
		t.Errorf("first cell: %+v", r)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "javascript", "code": "await new Promise(r => setTimeout(r, 20)); x * 2"})
	if len(r.results) != 1 || r.results[0]["text"] != "42" {
		t.Errorf("top-level await and state: %+v", r)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "ts", "code": "({a: [1, 2]})"})
	if len(r.results) != 1 || r.results[0]["text"] != "{ a: [ 1, 2 ] }" {
		t.Errorf("util.inspect result: %+v", r.results)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "javascript", "code": "null.foo"})
	if len(r.errors) != 1 || r.errors[0]["name"] != "TypeError" || strings.Contains(r.errors[0]["traceback"].(string), "node:vm") {
		t.Errorf("error: %+v", r.errors)
	}
	r = execute(t, ctx, srv.URL, map[string]any{"language": "javascript", "code": "process.env.ONLY", "env_vars": map[string]string{"ONLY": "here"}})
	if len(r.results) != 1 || r.results[0]["text"] != "here" {
		t.Errorf("env_vars: %+v", r.results)
	}
}

func TestMissingInterpreterIsAClearError(t *testing.T) {
	settings := guestenv.New("0")
	settings.Apply(guestproto.InitRequest{EnvVars: map[string]string{"PATH": t.TempDir()}})
	svc := New(settings, process.NewDirectReaper(), nil)
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	defer svc.Close()
	resp, err := http.Post(srv.URL+"/execute", "application/json", strings.NewReader(`{"code":"1+1"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "python3, which is not installed") {
		t.Errorf("%d %q", resp.StatusCode, b)
	}
}

func TestPrewarmedSpares(t *testing.T) {
	need(t, "python3")
	settings := guestenv.New("0")
	svc := New(settings, process.NewDirectReaper(), nil)
	defer svc.Close()
	svc.Prewarm([]string{"python"})
	spare := func() *kctx {
		for i := 0; i < 200; i++ {
			svc.mu.Lock()
			sp := svc.spares["python"]
			svc.mu.Unlock()
			if sp != nil {
				return sp
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("no spare was started")
		return nil
	}
	first := spare()
	k, err := svc.Create("python", "")
	if err != nil || k != first {
		t.Fatalf("Create did not take the spare (%v)", err)
	}
	second := spare() // replaced in the background
	// A changed environment makes the spare stale: it is not handed out.
	settings.Apply(guestproto.InitRequest{EnvVars: map[string]string{"NEW": "1"}})
	k2, err := svc.Create("python", "")
	if err != nil || k2 == second {
		t.Errorf("a stale spare was handed out (%v)", err)
	}
}

func TestMatplotlibFiguresBecomePNG(t *testing.T) {
	need(t, "python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import matplotlib").Run(); err != nil {
		testenv.Require(t, "interpreters", "matplotlib missing: apt-get install python3-matplotlib")
	}
	srv, _ := newServer(t)
	ctx := context.Background()
	// A figure left open at the end of the cell, and one shown mid-cell.
	r := execute(t, ctx, srv.URL, map[string]any{"code": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\nplt.figure()\nplt.bar([1], [2])\n'done'"})
	pngs := 0
	for _, res := range r.results {
		if png, _ := res["png"].(string); strings.HasPrefix(png, "iVBORw0KGgo") { // base64 of the PNG signature
			pngs++
			if res["is_main_result"] != false {
				t.Error("a figure is not the main result")
			}
		}
	}
	if pngs != 2 || len(r.errors) > 0 {
		t.Errorf("%d PNG results (want 2), errors %v", pngs, r.errors)
	}
	if last := r.results[len(r.results)-1]; last["is_main_result"] != true || last["text"] != "done" {
		t.Errorf("main result %v", last)
	}
}

// TestSplitSendsShortOutputAtOnce: split holds back only bytes that may begin the
// sentinel, so a short line reaches the client while the cell still runs.
func TestSplitSendsShortOutputAtOnce(t *testing.T) {
	sep := "\x1eabc\x1e"
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan chunk, 16)
	go split(r, sep, out)
	steps := []struct {
		write string
		want  []chunk
	}{
		{"0\n", []chunk{{data: []byte("0\n")}}},
		{"x\x1ea", []chunk{{data: []byte("x")}}}, // "\x1ea" may begin the sentinel
		{"bz", []chunk{{data: []byte("\x1eabz")}}},
		{"1\x1eabc\x1e", []chunk{{data: []byte("1")}, {end: true}}},
	}
	for _, s := range steps {
		if _, err := w.WriteString(s.write); err != nil {
			t.Fatal(err)
		}
		for _, want := range s.want {
			got := <-out
			if string(got.data) != string(want.data) || got.end != want.end {
				t.Fatalf("after %q: chunk %q end=%v, want %q end=%v", s.write, got.data, got.end, want.data, want.end)
			}
		}
	}
	w.Close()
	for c := range out {
		t.Errorf("left over: %q end=%v", c.data, c.end)
	}
}
