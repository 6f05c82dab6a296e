package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/manager"
)

// TestDeadGuestOnEverySurface kills a sandbox's init from the host (as a crash would) and
// checks what each surface then says: the native API shows it failed with the reason and
// answers exec with 409 and the reason; the E2B API lists it as not running; native start and
// E2B connect each bring it back.
func TestDeadGuestOnEverySurface(t *testing.T) {
	var dataDir string
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0; dataDir = c.DataDir })
	id := s.e2bCreate(map[string]any{"templateID": "base", "timeout": 300}).SandboxID
	kill := func() {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dataDir, "sandboxes", id, "init.pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	var view struct{ Status, Reason string }
	waitFailed := func() {
		t.Helper()
		until(t, "the sandbox to turn failed", func() bool {
			code, env := s.call("GET", "/sandboxes/"+id, nil, "")
			if code != 200 {
				t.Fatalf("GET: %d %s", code, env.Error)
			}
			view = data[struct{ Status, Reason string }](t, env)
			return view.Status == "failed"
		})
	}

	kill()
	waitFailed()
	if view.Reason != manager.ReasonInitExited {
		t.Errorf("native reason = %q, want %q", view.Reason, manager.ReasonInitExited)
	}
	code, env := s.call("POST", "/sandboxes/"+id+"/exec", map[string]any{"command": []string{"true"}}, "")
	if code != 409 || !strings.Contains(env.Error, "is failed: "+manager.ReasonInitExited) {
		t.Errorf("exec in the failed sandbox: %d %q; want 409 with the reason", code, env.Error)
	}
	code, raw, _ := s.e2bCall("GET", "/e2b/v1/sandboxes/"+id, nil, nil)
	var e2b struct{ State string }
	if code != 200 || json.Unmarshal(raw, &e2b) != nil || e2b.State == "running" {
		t.Errorf("E2B detail of the failed sandbox: %d %s; want it not running", code, raw)
	}
	if code, env := s.call("POST", "/sandboxes/"+id+"/start", nil, ""); code != 200 {
		t.Fatalf("native start: %d %s", code, env.Error)
	}
	if got := s.exec(id, "echo back"); got != "back\n" {
		t.Errorf("exec after start: %q", got)
	}

	kill()
	waitFailed()
	if code, raw, _ := s.e2bCall("POST", "/e2b/v1/sandboxes/"+id+"/connect", map[string]any{"timeout": 300}, nil); code != 201 {
		t.Fatalf("E2B connect of the failed sandbox: %d %s", code, raw)
	}
	if got := s.exec(id, "echo again"); got != "again\n" {
		t.Errorf("exec after connect: %q", got)
	}
}
