package code

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// cutOff sends a cell and abandons it after d, as a client whose timeout ran out does.
func cutOff(t *testing.T, url string, body map[string]any, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/execute", strings.NewReader(string(b)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	_, _ = bufio.NewReader(resp.Body).ReadString(0) // read until the deadline cuts it off
	resp.Body.Close()
}

// newContext creates a named context (what KernelBox sessions use) and returns its ID.
func newContext(t *testing.T, url, lang string) string {
	t.Helper()
	resp, err := http.Post(url+"/contexts", "application/json", strings.NewReader(`{"language":"`+lang+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.ID == "" {
		t.Fatalf("create %s context: %v", lang, err)
	}
	return c.ID
}

// pidOf is the interpreter process of a named context.
func pidOf(svc *Service, id string) int {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	return svc.contexts[id].pid
}

// TestBashTimeoutKeepsState cuts off bash cells that block in a foreground command, loop
// over one, sit in a function or spin in the shell itself: each is interrupted, the rest of
// the cell does not run, and the same shell keeps its variables, functions and cwd.
func TestBashTimeoutKeepsState(t *testing.T) {
	need(t, "bash")
	srv, svc := newServer(t)
	ctx := context.Background()
	id := newContext(t, srv.URL, "bash")
	pid := pidOf(svc, id)
	dir := t.TempDir()
	r := execute(t, ctx, srv.URL, map[string]any{"context_id": id, "code": "X=kept; cd " + dir + "; declare -A arr=([a]=1); f() { echo \"f:$X\"; }"})
	if len(r.errors) > 0 {
		t.Fatalf("setup: %+v", r.errors)
	}
	for _, cell := range []string{
		"sleep 30; X=changed",
		"while true; do sleep 1; done; X=loop",
		"g() { sleep 30; X=in-g; }; g; X=after-g",
		"while :; do :; done; X=busy",
		"y=$(sleep 30; echo sub); X=subst",
	} {
		cutOff(t, srv.URL, map[string]any{"context_id": id, "code": cell}, 500*time.Millisecond)
		r := execute(t, ctx, srv.URL, map[string]any{"context_id": id, "code": "echo \"$X $PWD ${arr[a]}\"; f"})
		if want := "kept " + dir + " 1\nf:kept\n"; r.stdout != want || len(r.errors) > 0 {
			t.Errorf("after cutting off %q: stdout %q, errors %+v; want %q (%v %v)", cell, r.stdout, r.errors, want, r.types, r.count)
		}
		if got := pidOf(svc, id); got != pid {
			t.Fatalf("after cutting off %q the shell was replaced (pid %d → %d): it was killed, not interrupted", cell, pid, got)
		}
	}
}

// TestForcedKillRestartsAtOnce cuts off a cell that ignores SIGINT: after the grace period
// the interpreter is killed, and the next cell (sent at once, so it waits for the kill) runs
// in a fresh context instead of failing.
func TestForcedKillRestartsAtOnce(t *testing.T) {
	need(t, "bash")
	srv, svc := newServer(t)
	ctx := context.Background()
	id := newContext(t, srv.URL, "bash")
	pid := pidOf(svc, id)
	execute(t, ctx, srv.URL, map[string]any{"context_id": id, "code": "X=lost"})
	cutOff(t, srv.URL, map[string]any{"context_id": id, "code": "trap '' INT; sleep 60"}, 300*time.Millisecond)
	r := execute(t, ctx, srv.URL, map[string]any{"context_id": id, "code": "echo \"fresh:$X\""})
	if r.stdout != "fresh:\n" || len(r.errors) > 0 {
		t.Errorf("after a forced kill: stdout %q, errors %+v; want a fresh shell", r.stdout, r.errors)
	}
	if got := pidOf(svc, id); got == pid {
		t.Errorf("the shell that ignored SIGINT is still the context's (pid %d)", pid)
	}
	// The default context too: dropped, and started afresh by the next cell.
	execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "X=lost"})
	cutOff(t, srv.URL, map[string]any{"language": "bash", "code": "trap '' INT; sleep 60"}, 300*time.Millisecond)
	if r := execute(t, ctx, srv.URL, map[string]any{"language": "bash", "code": "echo \"fresh:$X\""}); r.stdout != "fresh:\n" || len(r.errors) > 0 {
		t.Errorf("default context after a forced kill: stdout %q, errors %+v", r.stdout, r.errors)
	}
}

// TestJavascriptTimeoutKeepsState cuts off a synchronous loop and a pending await in Node:
// both are interrupted and the context keeps its variables.
func TestJavascriptTimeoutKeepsState(t *testing.T) {
	need(t, "node")
	srv, svc := newServer(t)
	ctx := context.Background()
	id := newContext(t, srv.URL, "javascript")
	pid := pidOf(svc, id)
	execute(t, ctx, srv.URL, map[string]any{"context_id": id, "code": "var x = 1; let y = 2; const z = 3;"})
	for _, cell := range []string{
		"while (true) {} x = 10",
		"function spin() { for (;;) {} }\nspin(); x = 20",
		"await new Promise(r => setTimeout(r, 30000)); x = 30",
		"new Promise(() => {})",
	} {
		cutOff(t, srv.URL, map[string]any{"context_id": id, "code": cell}, 500*time.Millisecond)
		r := execute(t, ctx, srv.URL, map[string]any{"context_id": id, "code": "[x, y, z]"})
		if len(r.results) != 1 || r.results[0]["text"] != "[ 1, 2, 3 ]" || len(r.errors) > 0 {
			t.Errorf("after cutting off %q: %+v", cell, r)
		}
		if got := pidOf(svc, id); got != pid {
			t.Fatalf("after cutting off %q node was replaced (pid %d → %d): it was killed, not interrupted", cell, pid, got)
		}
	}
}
