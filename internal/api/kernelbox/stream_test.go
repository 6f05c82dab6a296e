package kernelbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
)

// TestExecuteStream: the streamed execute sends each output while the cell runs (a plain
// print too: the harness line-buffers stdout). The cell prints, then waits for a file that
// the test writes only after it has read that print from the stream: without streaming the
// cell would never end (the test's deadline fails it), so the order of events is the
// proof, not a clock.
func TestExecuteStream(t *testing.T) {
	needPython(t)
	s := servertest.New(t)
	if code, k := call(t, s, "POST", "/kernels", map[string]any{"name": "py", "language": "python"}); code != 201 {
		t.Fatalf("create: %d %v", code, k)
	}
	gate := filepath.Join(testenv.TempDir(t), "gate")
	code := "import os, time\nprint('first')\nwhile not os.path.exists(" + strconv.Quote(gate) +
		"): time.sleep(0.02)\nprint('second')\n6 * 7"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"code": code})
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/kernels/py/execute/stream", strings.NewReader(string(body)))
	req.Header.Set("X-API-Key", servertest.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("answer: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// events: the stdout text read before the gate opened, "gate", the stdout after it,
	// the main result, "done".
	var events []string
	var done map[string]any
	var stdout strings.Builder
	gateOpen := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var name string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && name == "done":
			servertest.Decode(t, []byte(strings.TrimPrefix(line, "data: ")), &done)
			events = append(events, "stdout:"+stdout.String(), "done")
		case strings.HasPrefix(line, "data: "):
			var o struct{ Kind, Name, Text string }
			servertest.Decode(t, []byte(strings.TrimPrefix(line, "data: ")), &o)
			switch {
			case o.Kind == "stream" && o.Name == "stdout":
				stdout.WriteString(o.Text)
			case o.Kind == "execute_result":
				events = append(events, "stdout:"+stdout.String(), "result:"+o.Text)
				stdout.Reset()
			}
			if !gateOpen && stdout.String() == "first\n" {
				// The cell is still running, blocked on the gate: open it.
				if err := os.WriteFile(gate, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				gateOpen = true
				events = append(events, "stdout:"+stdout.String(), "gate")
				stdout.Reset()
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the stream: %v (events so far %q, then stdout %q)", err, events, stdout.String())
	}
	want := []string{"stdout:first\n", "gate", "stdout:second\n", "result:42", "stdout:", "done"}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Fatalf("events %q, want %q", events, want)
	}
	if done["status"] != "success" || done["return_value"] != "42" || done["output"] != "first\nsecond\n" {
		t.Errorf("done: %v", done)
	}
}

// TestExecuteStreamErrors: what is refused before the cell starts answers with its status
// in KernelBox's shape, not as a stream; an exception is an error output, then done.
func TestExecuteStreamErrors(t *testing.T) {
	needPython(t)
	s := servertest.New(t)
	if code, r := call(t, s, "POST", "/kernels/nope/execute/stream", map[string]any{"code": "1"}); code != 404 || r["detail"] == nil {
		t.Errorf("unknown kernel: %d %v", code, r)
	}
	call(t, s, "POST", "/kernels", map[string]any{"name": "py", "language": "python"})
	if code, r := call(t, s, "POST", "/kernels/py/execute/stream", map[string]any{"code": " "}); code != 400 || r["detail"] == nil {
		t.Errorf("empty code: %d %v", code, r)
	}
	resp, raw := s.Do(servertest.Request{Method: "POST", Path: "/kernels/py/execute/stream", Body: map[string]any{"code": "1/0"}})
	ev := servertest.Events(raw)
	if resp.StatusCode != 200 || len(ev) != 2 || ev[0].Name != "output" || !strings.Contains(ev[0].Data, `"kind":"error"`) ||
		ev[1].Name != "done" || !strings.Contains(ev[1].Data, `"ename":"ZeroDivisionError"`) || !strings.Contains(ev[1].Data, `"status":"error"`) {
		t.Errorf("exception: %d %v", resp.StatusCode, ev)
	}
}
