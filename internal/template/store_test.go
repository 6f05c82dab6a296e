package template

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// logSink is a log buffer safe for the watcher's goroutine.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logSink) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

func openStore(t *testing.T, content string) (*Store, string, *logSink) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "templates.json")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logSink{}
	s, err := Open(path, Builtins(2, []string{"python"}), slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path, logs
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func names(ts []Template) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return strings.Join(out, ",")
}

func TestStoreBuiltinsAndOverrides(t *testing.T) {
	s, _, _ := openStore(t, `[{"name":"base","image":"alpine:3","description":"mine"},
		{"name":"web","image":"base","description":"web","startCmd":"sleep 1"}]`)
	if got := names(s.List()); got != "base,code-interpreter-v1,web" {
		t.Errorf("List = %s", got)
	}
	b, err := s.Get("base")
	if err != nil || b.Image != "alpine:3" || s.Source("base") != SourceFile {
		t.Errorf("base = %+v, %v, source %s: want the file's override", b, err, s.Source("base"))
	}
	if s.Source(CodeInterpreter) != SourceBuiltin || s.Source("nope") != "" {
		t.Errorf("sources: %q %q", s.Source(CodeInterpreter), s.Source("nope"))
	}
	_, err = s.Get("nope")
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "base, code-interpreter-v1, web") {
		t.Errorf("Get(nope) = %v, want not found listing the templates", err)
	}
	// What Get returns is a copy.
	w, _ := s.Get("web")
	w.StartCmd = "changed"
	if w2, _ := s.Get("web"); w2.StartCmd != "sleep 1" {
		t.Errorf("Get shares memory with the store")
	}
}

func TestStoreOpenBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "templates.json")
	for _, content := range []string{`{`, `[{"name":"x","image":"base"}]`, `[{"name":"x","image":"base","description":"d","colour":1}]`} {
		os.WriteFile(path, []byte(content), 0o644)
		if _, err := Open(path, nil, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%s) = %v, want an error naming the file", content, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing-dir", "t.json"), nil, nil); err == nil {
		t.Errorf("Open in a missing directory succeeded")
	}
}

func TestStoreSave(t *testing.T) {
	s, path, _ := openStore(t, "")
	changes := make(chan []Template, 10)
	s.OnChange(func(ts []Template) { changes <- ts })
	ctx := context.Background()

	bad := []Template{{Name: "web", Image: "base", Description: "d", Port: -1}}
	if err := s.Save(ctx, bad); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), `template "web": port`) {
		t.Errorf("Save(bad) = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a rejected save wrote the file: %v", err)
	}

	base, _ := s.Get(Base)
	web := Template{Name: "web", Image: "base", Description: "web", EnvVars: map[string]string{"A": "1"}}
	if err := s.Save(ctx, []Template{base, web}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("web"); err != nil {
		t.Errorf("saved template not in effect at once: %v", err)
	}
	select {
	case ts := <-changes:
		if names(ts) != "base,code-interpreter-v1,web" {
			t.Errorf("subscriber saw %s", names(ts))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscriber not called after Save")
	}
	data, _ := os.ReadFile(path)
	var onDisk []Template
	if err := json.Unmarshal(data, &onDisk); err != nil || names(onDisk) != "web" {
		t.Errorf("file holds %s (%v): want only web, the unchanged built-in left out", data, err)
	}
	if s.Source(Base) != SourceBuiltin {
		t.Errorf("base became %s", s.Source(Base))
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after save, want only the file", len(entries))
	}
	// The watcher sees Save's own rename but must not notify twice for it.
	select {
	case ts := <-changes:
		t.Errorf("second notification for one save: %s", names(ts))
	case <-time.After(3 * settle):
	}
}

func TestStoreReload(t *testing.T) {
	s, path, logs := openStore(t, `[{"name":"web","image":"base","description":"v1"}]`)
	changes := make(chan []Template, 10)
	s.OnChange(func(ts []Template) { changes <- ts })
	write := func(content string) {
		t.Helper()
		// Written in place (not renamed) like a text editor's plain save.
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write(`[{"name":"web","image":"base","description":"v2"},{"name":"api","image":"base","description":"api"}]`)
	eventually(t, "the edit to be in effect", func() bool {
		w, _ := s.Get("web")
		return w.Description == "v2"
	})
	if ts := <-changes; names(ts) != "api,base,code-interpreter-v1,web" {
		t.Errorf("subscriber saw %s", names(ts))
	}

	broken := `[{"name":"web","image":"base","description":"v3","port":-5}]`
	write(broken)
	eventually(t, "the broken file to be noticed", func() bool { return s.LoadError() != nil })
	if err := s.LoadError(); !strings.Contains(err.Error(), `template "web": port`) {
		t.Errorf("LoadError = %v", err)
	}
	if w, _ := s.Get("web"); w.Description != "v2" {
		t.Errorf("broken file replaced the templates: web is %q", w.Description)
	}
	if _, err := s.Get("api"); err != nil {
		t.Errorf("broken file dropped api: %v", err)
	}
	write(broken + " ") // a second event with the same error
	time.Sleep(3 * settle)

	write(`[{"name":"web","image":"base","description":"v4"}]`)
	eventually(t, "the fixed file to be in effect", func() bool {
		w, _ := s.Get("web")
		return w.Description == "v4" && s.LoadError() == nil
	})
	if _, err := s.Get("api"); !errdefs.IsNotFound(err) {
		t.Errorf("api still there after the file dropped it: %v", err)
	}
	if n := logs.count("templates file not reloaded"); n != 1 {
		t.Errorf("broken file logged %d times, want once", n)
	}

	// Removing the file leaves the built-ins.
	os.Remove(path)
	eventually(t, "the removal to be in effect", func() bool { return names(s.List()) == "base,code-interpreter-v1" })
}
