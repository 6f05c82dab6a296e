package native_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/template"
)

type result struct {
	Output    string `json:"output"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	ExitCode  int    `json:"exit_code"`
	Truncated bool   `json:"truncated"`
	Reason    string `json:"reason"`
}

// TestExecAnswer checks the streamed encoding of a result: what encoding/json makes of it.
func TestExecAnswer(t *testing.T) {
	s := newFakeSurface(t, native.Options{})
	script := `printf 'a\000b "q" <x> \\ é\n'; printf 'err\t\n' >&2; printf 'tail'; exit 3`
	code, body := s.do("POST", "/sandboxes/box/exec", fmt.Sprintf(`{"command":["sh","-c",%q]}`, script), nil)
	got, msg := envelope[result](t, body)
	want := result{Stdout: "a\x00b \"q\" <x> \\ é\ntail", Stderr: "err\t\n", ExitCode: 3}
	// stdout and stderr are two pipes: their order in output is whatever the guest saw.
	merged := got.Output
	got.Output = ""
	if code != 200 || got != want || strings.Replace(merged, want.Stderr, "", 1) != want.Stdout {
		t.Errorf("%d %s\n got %+v (output %q)\nwant %+v", code, msg, got, merged, want)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal([]byte(body), &raw)
	var data map[string]any
	_ = json.Unmarshal(raw["data"], &data)
	if _, ok := data["sandbox"]; ok || data["duration_ms"] == nil || len(data) != 5 {
		t.Errorf("fields of an exec answer: %v", data)
	}
}

func TestBatchAnswer(t *testing.T) {
	s := newFakeSurface(t, native.Options{})
	body := `{"commands":[{"command":["sh","-c","echo one; echo two >&2"]},{"command":["true"],"profile":"nope"},{"command":["sh","-c","exit 4"]}]}`
	code, answer := s.do("POST", "/batch/run", body, nil)
	got, msg := envelope[struct {
		Results []struct {
			Output   string  `json:"output"`
			Error    *string `json:"error"`
			ExitCode *int    `json:"exit_code"`
			Stdout   string  `json:"stdout"`
			Stderr   string  `json:"stderr"`
		} `json:"results"`
	}](t, answer)
	r := got.Results
	if code != 200 || len(r) != 3 {
		t.Fatalf("%d %s %s", code, msg, answer)
	}
	if (r[0].Output != "one\ntwo\n" && r[0].Output != "two\none\n") || r[0].Stdout != "one\n" || r[0].Stderr != "two\n" || r[0].Error != nil || *r[0].ExitCode != 0 {
		t.Errorf("entry 0: %+v", r[0])
	}
	if r[1].Error == nil || !strings.Contains(*r[1].Error, "nope") || r[1].ExitCode != nil {
		t.Errorf("entry 1: %+v", r[1])
	}
	if r[2].ExitCode == nil || *r[2].ExitCode != 4 {
		t.Errorf("entry 2: %+v", r[2])
	}
}

// TestBadInputNamesTheField: timeouts too large (once an overflow read as "negative"), env
// names a process cannot carry (once dropped silently) and port 0 (once taken as "none").
func TestBadInputNamesTheField(t *testing.T) {
	s := newFakeSurface(t, native.Options{})
	for _, c := range []struct {
		path, body, want string
	}{
		{"/sandboxes/box/exec", `{"command":["true"],"timeout":999999999999}`, "timeout 999999999999 is too large (max 86400 seconds)"},
		{"/sandboxes/box/exec/stream", `{"command":["true"],"timeout":999999999999}`, "is too large"},
		{"/run", `{"command":["true"],"timeout":999999999999}`, "is too large"},
		{"/run/stream", `{"command":["true"],"timeout":1e300}`, "is too large"},
		{"/sandboxes/box/exec", `{"command":["true"],"timeout":-1}`, "must not be negative"},
		{"/sandboxes/box/exec", `{"command":["env"],"env":{"A=B":"x"}}`, `variable name "A=B"`},
		{"/sandboxes/box/exec/stream", `{"command":["env"],"env":{"A\u0000B":"x"}}`, `variable name "A\x00B"`},
		{"/run", `{"command":["env"],"env":{"OK":"a\u0000b"}}`, "value of OK"},
		{"/sandboxes", `{"name":"e","env":{"A=B":"x"}}`, `"A=B"`},
		{"/sandboxes", `{"name":"p","port":0}`, "port 0"},
		{"/sandboxes", `{"name":"p","port":70000}`, "port 70000"},
	} {
		code, body := s.do("POST", c.path, c.body, nil)
		_, msg := envelope[any](t, body)
		if code != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("POST %s %s: %d %q, want 400 with %q", c.path, c.body, code, msg, c.want)
		}
	}
	// Templates: "port": 0 is not "no port".
	store, err := template.Open(filepath.Join(t.TempDir(), "templates.json"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ts := newFakeSurface(t, native.Options{Templates: store})
	code, body := ts.do("PUT", "/templates", `[{"name":"web","image":"base","description":"d","port":0}]`, nil)
	if _, msg := envelope[any](t, body); code != 400 || !strings.Contains(msg, `template "web": port: 0 is not a port`) {
		t.Errorf("PUT /templates with port 0: %d %q", code, msg)
	}
	// The batch refuses the entry, not the whole batch.
	code, body = s.do("POST", "/batch/run", `{"commands":[{"command":["true"],"timeout":999999999999}]}`, nil)
	if code != 200 || !strings.Contains(body, "is too large") {
		t.Errorf("batch: %d %s", code, body)
	}
}

// TestHeavyRoutesShareTheCap holds the only heavy slot with a command and checks that every
// heavy route is refused meanwhile (503, Retry-After, the envelope) and the others are not.
func TestHeavyRoutesShareTheCap(t *testing.T) {
	heavy := httpx.NewLimiter(1, 0)
	s := newFakeSurface(t, native.Options{Heavy: heavy})
	gate := filepath.Join(t.TempDir(), "go")
	done := make(chan string, 1)
	go func() {
		_, body := s.do("POST", "/sandboxes/box/exec", fmt.Sprintf(`{"command":["sh","-c","while [ ! -e %s ]; do sleep 0.01; done; echo released"]}`, gate), nil)
		done <- body
	}()
	for heavy.InFlight() != 1 { // bounded by the test's timeout
		time.Sleep(time.Millisecond)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/sandboxes/box/exec", `{"command":["true"]}`},
		{"POST", "/run", `{"command":["true"]}`},
		{"POST", "/batch/run", `{"commands":[{"command":["true"]}]}`},
		{"GET", "/sandboxes/box/files/etc/hostname", ""},
		{"PUT", "/sandboxes/box/files" + gate + "-x", `{"content":"x"}`},
	} {
		resp := s.send(c.method, c.path, strings.NewReader(c.body), nil)
		var env struct {
			Success bool
			Error   string
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || env.Success || !strings.Contains(env.Error, "busy") {
			t.Errorf("%s %s while full: %d Retry-After %q %+v", c.method, c.path, resp.StatusCode, resp.Header.Get("Retry-After"), env)
		}
	}
	if code, _ := s.do("GET", "/sandboxes/box", "", nil); code != 200 {
		t.Errorf("a light route while full: %d", code)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if body := <-done; !strings.Contains(body, "released") {
		t.Errorf("the held exec: %s", body)
	}
	if heavy.InFlight() != 0 || heavy.Refused() != 5 {
		t.Errorf("after: %d in flight, %d refused", heavy.InFlight(), heavy.Refused())
	}
}
