package credential_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/store/memory"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// fakeSandbox is a workspace in memory that runs only the injector's write command.
type fakeSandbox struct {
	mu     sync.Mutex
	files  map[string]string // absolute path → content
	argv   [][]string
	failAt string // a path whose write exits 1
}

func newFakeSandbox() *fakeSandbox { return &fakeSandbox{files: map[string]string{}} }

func (f *fakeSandbox) Exec(_ context.Context, _ string, req manager.ExecRequest) (*manager.ExecResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(req.Command) != 6 || req.Command[0] != "/bin/sh" || req.Shell != "" {
		return nil, errors.New("unexpected command")
	}
	f.argv = append(f.argv, req.Command)
	full := req.Command[5]
	if full == f.failAt {
		return &manager.ExecResult{ExitCode: 1, Stderr: []byte("sh: can't create " + full + ": Permission denied\n")}, nil
	}
	f.files[full] = string(req.Stdin)
	return &manager.ExecResult{}, nil
}

func (f *fakeSandbox) ReadFile(_ context.Context, _, path, _ string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.files[path]
	if !ok {
		return nil, errdefs.NotFound("%s: no such file", path)
	}
	return io.NopCloser(strings.NewReader(c)), nil
}

func (f *fakeSandbox) StatFile(_ context.Context, _, path, _ string) (*fspb.EntryInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.files[path]
	if !ok {
		return nil, errdefs.NotFound("%s: no such file", path)
	}
	return &fspb.EntryInfo{Path: path, Size: int64(len(c)), ModifiedTime: timestamppb.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))}, nil
}

const secret = "sk-ant-VERY-SECRET-1234"

var agent = credential.Agent{ID: "agt_1", Name: "research", Sandbox: "sb-1"}

type fixture struct {
	svc   *credential.Service
	sb    *fakeSandbox
	store *memory.Credentials
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, key credential.Key) *fixture {
	f := &fixture{sb: newFakeSandbox(), store: memory.NewCredentials(), logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.svc = credential.New(f.store, key, f.sb, credential.Options{Log: log})
	t.Cleanup(func() {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("a credential's content reached the log:\n%s", f.logs.String())
		}
	})
	return f
}

func key(b byte) credential.Key {
	var k credential.Key
	for i := range k {
		k[i] = b ^ byte(i)
	}
	return k
}

func TestInjectAndReinject(t *testing.T) {
	f := newFixture(t, key(1))
	ctx := context.Background()
	files := map[string]string{".env": "ANTHROPIC_API_KEY=" + secret + "\n# comment\nOTHER=1\n", "./.config/gcloud/key.json": `{"k":"` + secret + `"}`}
	resp, err := f.svc.Inject(ctx, agent, files)
	if err != nil {
		t.Fatal(err)
	}
	want := &credential.InjectResponse{Status: "success", FilesWritten: []string{".config/gcloud/key.json", ".env"},
		Message: "Injected 2 credential file(s) to agent research"}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("inject = %+v", resp)
	}
	if got := f.sb.files["/home/developer/.config/gcloud/key.json"]; got != files["./.config/gcloud/key.json"] {
		t.Errorf("key.json = %q", got)
	}
	for _, argv := range f.sb.argv {
		if strings.Contains(strings.Join(argv, " "), secret) {
			t.Errorf("content in argv: %q", argv)
		}
	}
	if argv := f.sb.argv[0]; argv[4] != "/home/developer/.config/gcloud" {
		t.Errorf("parent dir argument = %q", argv[4])
	}
	recs, _ := f.store.ListCredentials(ctx, agent.ID)
	if len(recs) != 2 {
		t.Fatalf("%d records stored", len(recs))
	}
	for _, r := range recs {
		if bytes.Contains(r.Sealed, []byte(secret)) || bytes.Contains(r.Sealed, []byte("ANTHROPIC")) {
			t.Errorf("record %s is stored in the clear", r.Path)
		}
	}

	// A new sandbox (the agent restarted): Reinject writes the same files again.
	f.sb = newFakeSandbox()
	svc := credential.New(f.store, key(1), f.sb, credential.Options{})
	if st, err := svc.Reinject(ctx, agent); st != credential.InjectionSuccess || err != nil {
		t.Fatalf("reinject = %s, %v", st, err)
	}
	if f.sb.files["/home/developer/.env"] != files[".env"] || len(f.sb.files) != 2 {
		t.Errorf("after reinject: %v", slices.Collect(maps.Keys(f.sb.files)))
	}
	// Under another key the stored files do not open.
	other := credential.New(f.store, key(2), newFakeSandbox(), credential.Options{})
	if st, err := other.Reinject(ctx, agent); st != credential.InjectionFailed || !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("reinject under another key = %s, %v", st, err)
	}
	// A record moved to another agent does not open either (bound to agent and path).
	_ = f.store.PutCredentials(ctx, "agt_2", recs[:1])
	if st, _ := svc.Reinject(ctx, credential.Agent{ID: "agt_2", Sandbox: "sb-2"}); st != credential.InjectionFailed {
		t.Errorf("a record copied to another agent opened: %s", st)
	}
	if err := svc.DeleteAgent(ctx, agent.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := svc.Reinject(ctx, agent); st != credential.InjectionSkipped || err != nil {
		t.Errorf("reinject after DeleteAgent = %s, %v", st, err)
	}
}

func TestInjectRefusesBeforeWriting(t *testing.T) {
	f := newFixture(t, key(1))
	many := map[string]string{}
	for i := range credential.MaxFiles + 1 {
		many[strings.Repeat("f", i+1)] = "x"
	}
	cases := []struct {
		name  string
		files map[string]string
		class error
	}{
		{"none", map[string]string{}, errdefs.ErrInvalidArgument},
		{"dot-dot", map[string]string{".env": secret, "../x": "y"}, errdefs.ErrInvalidArgument},
		{"absolute", map[string]string{".env": secret, "/etc/x": "y"}, errdefs.ErrInvalidArgument},
		{"twice", map[string]string{"a/b": secret, "a/./b": "y"}, errdefs.ErrInvalidArgument},
		{"not text", map[string]string{".env": secret, "bin": "\xff\xfe"}, errdefs.ErrInvalidArgument},
		{"too many", many, errdefs.ErrInvalidArgument},
		{"too big", map[string]string{".env": strings.Repeat("x", credential.MaxFileBytes+1)}, errdefs.ErrTooLarge},
		{"too big in all", map[string]string{"a": strings.Repeat("x", credential.MaxFileBytes), "b": strings.Repeat("x", credential.MaxFileBytes),
			"c": strings.Repeat("x", credential.MaxFileBytes), "d": strings.Repeat("x", credential.MaxFileBytes), "e": "x"}, errdefs.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Inject(context.Background(), agent, c.files)
			if !errors.Is(err, c.class) || strings.Contains(err.Error(), secret) {
				t.Errorf("inject = %v, want class %v", err, c.class)
			}
		})
	}
	if len(f.sb.argv) != 0 {
		t.Errorf("%d files written by refused injects", len(f.sb.argv))
	}
	if recs, _ := f.store.ListCredentials(context.Background(), agent.ID); len(recs) != 0 {
		t.Errorf("refused injects recorded %d files", len(recs))
	}
}

func TestInjectWriteFails(t *testing.T) {
	f := newFixture(t, key(1))
	f.sb.failAt = "/home/developer/.env"
	_, err := f.svc.Inject(context.Background(), agent, map[string]string{".env": secret})
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || strings.Contains(err.Error(), secret) {
		t.Fatalf("inject = %v", err)
	}
	if msg, ok := errdefs.PublicMessage(err); !ok || msg != "credential file .env could not be written in the workspace" {
		t.Errorf("public message = %q", msg)
	}
	if recs, _ := f.store.ListCredentials(context.Background(), agent.ID); len(recs) != 0 {
		t.Errorf("a failed inject recorded %d files", len(recs))
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t, key(1))
	ctx := context.Background()
	if _, err := f.svc.Inject(ctx, agent, map[string]string{".env": "A=1\n\n# c\nB = " + secret + "\nnot a pair\n", "certs/ca.pem": "pem"}); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.Status(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	want := `{"agent_name":"research","files":{".credentials.enc":{"exists":false},".env":{"exists":true,"size":48,"modified":"2026-05-01T12:00:00Z"},` +
		`".mcp.json":{"exists":false},"certs/ca.pem":{"exists":true,"size":3,"modified":"2026-05-01T12:00:00Z"}},"credential_count":2}`
	if string(b) != want {
		t.Errorf("status =\n %s\nwant\n %s", b, want)
	}
}

func TestExportImport(t *testing.T) {
	f := newFixture(t, key(1))
	ctx := context.Background()
	if _, err := f.svc.Export(ctx, agent); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("export with nothing to export: %v", err)
	}
	if _, err := f.svc.Import(ctx, agent, nil); !errors.Is(err, errdefs.ErrNotFound) || err.Error() != "No .credentials.enc file found" {
		t.Errorf("import without .credentials.enc: %v", err)
	}
	files := map[string]string{".env": "K=" + secret + "\n", "sub/tok": "t"}
	if _, err := f.svc.Inject(ctx, agent, files); err != nil {
		t.Fatal(err)
	}
	f.sb.files["/home/developer/.mcp.json"] = `{"mcpServers":{}}` // made in the workspace, not injected
	exp, err := f.svc.Export(ctx, agent)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Status != "success" || exp.EncryptedFile != ".credentials.enc" || exp.FilesExported != 3 || exp.Bundle == nil {
		t.Errorf("export = %+v", exp)
	}
	var written credential.Bundle
	if err := json.Unmarshal([]byte(f.sb.files["/home/developer/.credentials.enc"]), &written); err != nil || written != *exp.Bundle {
		t.Fatalf(".credentials.enc = %q (%v)", f.sb.files["/home/developer/.credentials.enc"], err)
	}
	if strings.Contains(f.sb.files["/home/developer/.credentials.enc"], secret) {
		t.Error(".credentials.enc holds the secret in the clear")
	}

	// The workspace loses its files; importing .credentials.enc brings them back.
	delete(f.sb.files, "/home/developer/.env")
	delete(f.sb.files, "/home/developer/sub/tok")
	imp, err := f.svc.Import(ctx, agent, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &credential.ImportResponse{Status: "success", FilesImported: []string{".env", ".mcp.json", "sub/tok"},
		Message: "Imported 3 credential file(s) from .credentials.enc"}
	if !reflect.DeepEqual(imp, want) || f.sb.files["/home/developer/.env"] != files[".env"] {
		t.Errorf("import = %+v; .env = %q", imp, f.sb.files["/home/developer/.env"])
	}

	// Another agent imports the bundle given in the request (a copy between agents).
	g := newFixture(t, key(1))
	other := credential.Agent{ID: "agt_2", Name: "copy", Sandbox: "sb-2"}
	if _, err := g.svc.Import(ctx, other, exp.Bundle); err != nil || g.sb.files["/home/developer/sub/tok"] != "t" {
		t.Errorf("import of a given bundle: %v", err)
	}

	// A tampered bundle, or one from a server with another key, is refused and writes nothing.
	tampered := *exp.Bundle
	tampered.Ciphertext = "A" + tampered.Ciphertext[1:]
	h := newFixture(t, key(2))
	for name, run := range map[string]func() error{
		"tampered":    func() error { _, err := g.svc.Import(ctx, other, &tampered); return err },
		"another key": func() error { _, err := h.svc.Import(ctx, other, exp.Bundle); return err },
	} {
		if err := run(); !errors.Is(err, errdefs.ErrInvalidArgument) || err.Error() != "bundle does not decrypt with this server's key" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(h.sb.argv) != 0 {
		t.Error("a refused import wrote files")
	}
	f.sb.files["/home/developer/.credentials.enc"] = "not json"
	if _, err := f.svc.Import(ctx, agent, nil); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("import of a damaged .credentials.enc: %v", err)
	}
}
