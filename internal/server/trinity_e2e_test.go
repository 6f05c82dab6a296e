package server

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// TestTrinityAgentEndToEndRunc drives an agent on real runc through what the other packages
// add to it: credentials injected (mode 600) and injected again at start, a real OpenSSH
// login through the server's gateway with a generated key, a schedule whose command runs in
// the agent, and a delete that revokes the key. The secret appears in no log line.
func TestTrinityAgentEndToEndRunc(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		testenv.Require(t, "ssh", "OpenSSH client not in PATH: apt-get install openssh-client")
	}
	ln, err := ListenSSH("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServerWith(t, Options{SSHListener: ln}, func(c *config.Config) { c.PoolSize = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s.srv.serveSSH(ctx)
	s.srv.runSchedules(ctx)

	const secret = "API_KEY=s3cret-canary-7731"
	if code, body := s.trinityCall("POST", "", map[string]any{"name": "ops", "runtime": "shell",
		"resources": map[string]string{"cpu": "1", "memory": "512m"}}, nil); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	var injected struct {
		FilesWritten []string `json:"files_written"`
	}
	if code, body := s.trinityCall("POST", "/ops/credentials/inject", map[string]any{"files": map[string]string{
		".env": secret + "\n", "config/app/token": "t0ken\n"}}, &injected); code != 200 || len(injected.FilesWritten) != 2 {
		t.Fatalf("inject: %d %s", code, body)
	}
	if code, body := s.trinityCall("POST", "/ops/credentials/inject", map[string]any{"files": map[string]string{"../escape": "x"}}, nil); code != 400 {
		t.Errorf("a path outside the workspace: %d %s, want 400", code, body)
	}

	// SSH in with a key the server generates; the session runs in the agent's workspace.
	var access struct {
		PrivateKey string `json:"private_key"`
		Connection struct {
			Host, User string
			Port       int
		}
	}
	if code, body := s.trinityCall("POST", "/ops/ssh-access", map[string]any{"ttl_hours": 1}, &access); code != 200 || access.PrivateKey == "" {
		t.Fatalf("ssh-access: %d %s", code, body)
	}
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, []byte(access.PrivateKey), 0o600); err != nil {
		t.Fatal(err)
	}
	login := func(remote string) (string, error) {
		cctx, ccancel := context.WithTimeout(ctx, time.Minute)
		defer ccancel()
		cmd := exec.CommandContext(cctx, sshBin, "-F", "/dev/null", "-i", keyFile, "-p", strconv.Itoa(access.Connection.Port),
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
			"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
			access.Connection.User+"@"+access.Connection.Host, remote)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := login("pwd; stat -c %a .env config/app/token; cat .env")
	if err != nil || out != "/home/developer\n600\n600\n"+secret+"\n" {
		t.Fatalf("ssh session: %v\n%q", err, out)
	}

	// A start injects the credentials again (here: after the file was removed).
	if out, err := login("rm .env && ls -a"); err != nil || strings.Contains(out, ".env") {
		t.Fatalf("remove .env: %v %q", err, out)
	}
	for _, step := range []string{"/ops/stop", "/ops/start"} {
		var res struct {
			Injection string `json:"credentials_injection"`
		}
		if code, body := s.trinityCall("POST", step, nil, &res); code != 200 || (step == "/ops/start" && res.Injection != "success") {
			t.Fatalf("%s: %d %s", step, code, body)
		}
	}
	if out, err := login("cat .env"); err != nil || out != secret+"\n" {
		t.Errorf("after start: %v %q", err, out)
	}

	// A schedule's command runs in the agent and its execution is recorded, once autonomy
	// (off for a new agent, as upstream) lets it fire.
	if code, body := s.trinityCall("PUT", "/ops/autonomy", map[string]any{"enabled": true}, nil); code != 200 {
		t.Fatalf("autonomy: %d %s", code, body)
	}
	var sc struct{ ID string }
	if code, body := s.trinityCall("POST", "/ops/schedules", map[string]any{"name": "tick", "cron_expression": "@every 1s",
		"command": "echo tick >> /home/developer/ticks; cat /home/developer/ticks | wc -l"}, &sc); code != 201 {
		t.Fatalf("schedule: %d %s", code, body)
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		var execs []struct{ Status, Output string }
		s.trinityCall("GET", "/ops/schedules/"+sc.ID+"/executions", nil, &execs)
		if len(execs) > 0 && execs[0].Status == "success" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful execution of the schedule in 45 s: %+v", execs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, err := login("head -1 ticks"); err != nil || out != "tick\n" {
		t.Errorf("the schedule's output in the workspace: %v %q", err, out)
	}

	// Deleting the agent revokes its key and forgets its credentials.
	var detail struct{ ID string }
	s.trinityCall("GET", "/ops", nil, &detail)
	if code, body := s.trinityCall("DELETE", "/ops", nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, body)
	}
	if out, err := login("true"); err == nil {
		t.Errorf("logged in with the key of a deleted agent: %q", out)
	}
	if left, _ := s.srv.eng.Credentials.ListCredentials(ctx, detail.ID); len(left) > 0 {
		t.Errorf("credentials left after delete: %d", len(left))
	}
	if strings.Contains(s.logs.String(), "s3cret-canary") {
		t.Error("the credential's content is in the server's log")
	}
}
