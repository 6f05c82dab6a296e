package credential_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/engine/enginetest"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// lockedBuffer collects log lines from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runcAgent starts a real runc sandbox standing for an agent, with /home/developer owned by
// its default user as an agent's workspace volume is.
func runcAgent(t *testing.T, logs io.Writer) (*engine.Engine, credential.Agent, string) {
	t.Helper()
	testenv.NeedRunc(t)
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng := enginetest.Runc(t, func(c *engine.Config) { c.Logger = log })
	sb, err := eng.Create(ctx, sandbox.Spec{Name: "cred-agent"}, "")
	if err != nil {
		t.Fatal(err)
	}
	user := run(t, eng, sb.ID, "", "id -un")
	run(t, eng, sb.ID, "root", "mkdir -p /home/developer && chown "+user+" /home/developer")
	return eng, credential.Agent{ID: "agt_runc", Name: "cred-agent", Sandbox: sb.ID}, user
}

func asRoot(t *testing.T, eng *engine.Engine, id, script string) string {
	t.Helper()
	return run(t, eng, id, "root", script)
}

// run runs a shell script in a sandbox as user ("" = its default user) and returns its
// trimmed stdout.
func run(t *testing.T, eng *engine.Engine, id, user, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := eng.Exec(ctx, id, manager.ExecRequest{Shell: script, User: user, Timeout: 30 * time.Second})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%s: %v, exit %v: %s", script, err, res.ExitCode, res.Stderr)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// TestRuncInject writes credentials into a real runc sandbox: mode 0600 (0700 directories),
// owned by the default user, content intact, an existing file's looser mode tightened, bad
// paths refused before anything is written, and no content in any log line or audit event.
func TestRuncInject(t *testing.T) {
	logs := &lockedBuffer{}
	eng, a, user := runcAgent(t, logs)
	ctx := context.Background()
	svcLog := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := memory.NewCredentials()
	svc := credential.New(store, key(1), eng, credential.Options{Log: svcLog})

	asRoot(t, eng, a.Sandbox, "printf old > /home/developer/.mcp.json && chmod 644 /home/developer/.mcp.json && chown "+user+" /home/developer/.mcp.json")
	env := "ANTHROPIC_API_KEY=" + secret + "\nQUOTE='a \"b\" $HOME `x`'\n"
	mcp := `{"mcpServers":{"x":{"url":"https://example.com","headers":{"Authorization":"Bearer ` + secret + `"}}}}`
	if _, err := svc.Inject(ctx, a, map[string]string{".env": env, ".mcp.json": mcp, ".config/gcloud/key.json": "{}", "empty": ""}); err != nil {
		t.Fatal(err)
	}
	got := asRoot(t, eng, a.Sandbox, `cd /home/developer && stat -c '%n %a %U' .env .mcp.json .config .config/gcloud .config/gcloud/key.json empty`)
	want := strings.Join([]string{".env 600 " + user, ".mcp.json 600 " + user, ".config 700 " + user, ".config/gcloud 700 " + user,
		".config/gcloud/key.json 600 " + user, "empty 600 " + user}, "\n")
	if got != want {
		t.Errorf("modes and owners:\n%s\nwant\n%s", got, want)
	}
	for p, content := range map[string]string{".env": env, ".mcp.json": mcp, "empty": ""} {
		rc, err := eng.ReadFile(ctx, a.Sandbox, "/home/developer/"+p, "")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != content {
			t.Errorf("%s = %q, want %q", p, b, content)
		}
	}

	for _, files := range []map[string]string{{"ok-1": "y", "../x": "z"}, {"ok-2": "y", "/etc/x": "z"}} {
		if _, err := svc.Inject(ctx, a, files); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("inject %v: %v", files, err)
		}
	}
	if out := asRoot(t, eng, a.Sandbox, "ls /home/x /etc/x /home/developer/ok-1 /home/developer/ok-2 2>/dev/null; true"); out != "" {
		t.Errorf("refused injects wrote: %q", out)
	}

	st, err := svc.Status(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Files[".env"].Exists || *st.Files[".env"].Size != int64(len(env)) || st.Files[".credentials.enc"].Exists || st.CredentialCount != 2 {
		t.Errorf("status = %+v", st)
	}

	// Export, lose the files, import: they come back, mode 0600.
	exp, err := svc.Export(ctx, a)
	if err != nil || exp.FilesExported != 4 {
		t.Fatalf("export = %+v, %v", exp, err)
	}
	asRoot(t, eng, a.Sandbox, "rm /home/developer/.env && rm -r /home/developer/.config")
	if _, err := svc.Import(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if got := asRoot(t, eng, a.Sandbox, "stat -c '%a' /home/developer/.env /home/developer/.credentials.enc && md5sum < /home/developer/.env"); !strings.HasPrefix(got, "600\n600\n") {
		t.Errorf("after import: %q", got)
	}
	var b credential.Bundle
	enc := asRoot(t, eng, a.Sandbox, "cat /home/developer/.credentials.enc")
	if err := json.Unmarshal([]byte(enc), &b); err != nil || b != *exp.Bundle || strings.Contains(enc, secret) {
		t.Errorf(".credentials.enc = %q (%v)", enc, err)
	}

	// A sandbox made afresh (a recreated agent) gets everything again on start.
	if err := eng.Delete(ctx, a.Sandbox); err != nil {
		t.Fatal(err)
	}
	sb2, err := eng.Create(ctx, sandbox.Spec{Name: "cred-agent-2"}, "")
	if err != nil {
		t.Fatal(err)
	}
	asRoot(t, eng, sb2.ID, `mkdir -p /home/developer && chown `+user+` /home/developer`)
	a.Sandbox = sb2.ID
	if res, err := svc.Reinject(ctx, a); res != credential.InjectionSuccess || err != nil {
		t.Fatalf("reinject = %s, %v", res, err)
	}
	if got := asRoot(t, eng, sb2.ID, "cat /home/developer/.config/gcloud/key.json; stat -c '%a' /home/developer/.env"); got != "{}600" && got != "{}\n600" {
		t.Errorf("after reinject: %q", got)
	}

	evs, err := eng.Events.ListEvents(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	evText, _ := json.Marshal(evs)
	for what, text := range map[string]string{"log": logs.String(), "audit events": string(evText)} {
		if strings.Contains(text, secret) {
			t.Errorf("a credential's content reached the %s", what)
		}
	}
	if !strings.Contains(logs.String(), "credentials injected") {
		t.Error("the log says nothing of the inject (is it captured?)")
	}
}
