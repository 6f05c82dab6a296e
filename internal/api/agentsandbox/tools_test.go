package agentsandbox_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/template"
)

type terminalResult struct {
	Sandbox, Command, Output, ErrorOutput string
	ExitCode                              int
}

func TestTerminalCommand(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "term")
	var res terminalResult
	ok(t, s, "POST", v1+"/terminal/sandbox/term", map[string]any{"command": "echo $((6*7)); echo oops >&2; exit 3"}, &res)
	if res.Output != "42\n" || res.ErrorOutput != "oops\n" || res.ExitCode != 3 || res.Sandbox != "term" ||
		!strings.HasPrefix(res.Command, "sh -lc ") {
		t.Errorf("terminal: %+v", res)
	}
	fails(t, s, "POST", v1+"/terminal/sandbox/term", map[string]any{"command": "  "}, 400, "command is required")
	fails(t, s, "POST", v1+"/terminal/sandbox/term", map[string]any{}, 400, "command is required")
	fails(t, s, "POST", v1+"/terminal/sandbox/term", "", 400, "command is required")
	fails(t, s, "POST", v1+"/terminal/sandbox/term", map[string]any{"cmd": "ls"}, 400, `unknown field "cmd"`)
}

type fileEntry struct {
	Name, Path string
	IsDir      bool
	Size       int64
}

func TestFiles(t *testing.T) {
	const limit = 1 << 20
	s := servertest.New(t, func(c *config.Config) { c.MaxFileBytes = limit })
	create(t, s, "files")
	dir := servertest.Dir(t)
	if err := os.Mkdir(filepath.Join(dir, "Sub"), 0o777); err != nil {
		t.Fatal(err)
	}
	content := make([]byte, limit) // exactly the limit, binary
	_, _ = rand.Read(content)
	resp, raw := upload(t, s.URL, "files", dir, "../blob.bin", bytes.NewReader(content))
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"fileName":"blob.bin"`) {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	var list struct {
		Path    string
		Entries []fileEntry
	}
	ok(t, s, "GET", v1+"/sandbox/files/files?path="+dir, nil, &list)
	if list.Path != dir || len(list.Entries) != 2 || !list.Entries[0].IsDir || list.Entries[0].Name != "Sub" ||
		list.Entries[1] != (fileEntry{Name: "blob.bin", Path: filepath.Join(dir, "blob.bin"), Size: limit}) {
		t.Errorf("list: %+v", list)
	}
	resp, got := download(t, s.URL, "files", filepath.Join(dir, "blob.bin"))
	if resp.StatusCode != 200 || !bytes.Equal(got, content) || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=blob.bin` {
		t.Errorf("download: %d, %d bytes, %v", resp.StatusCode, len(got), resp.Header)
	}

	// One byte over the limit: 413, and nothing left behind.
	resp, raw = upload(t, s.URL, "files", dir, "big.bin", bytes.NewReader(append(content, 0)))
	checkFailure(t, "upload over the limit", resp.StatusCode, raw, http.StatusRequestEntityTooLarge, "exceeds")
	if _, err := os.Stat(filepath.Join(dir, "big.bin")); !os.IsNotExist(err) {
		t.Errorf("a refused upload left a file: %v", err)
	}
	resp, raw = upload(t, s.URL, "files", filepath.Join(dir, "blob.bin"), "x", strings.NewReader("x"))
	checkFailure(t, "upload into a file", resp.StatusCode, raw, 400, "path is not a directory")
	resp, raw = upload(t, s.URL, "files", dir, "", strings.NewReader("x"))
	checkFailure(t, "upload without a file name", resp.StatusCode, raw, 400, "")
	fails(t, s, "POST", v1+"/sandbox/files/files/upload?path="+dir, map[string]any{}, 400, "multipart")
	fails(t, s, "GET", v1+"/sandbox/files/files?path="+dir+"/nope", nil, 400, "path is not a directory")
	fails(t, s, "GET", v1+"/sandbox/files/files/download", nil, 400, "path is required")
	fails(t, s, "GET", v1+"/sandbox/files/files/download?path="+dir, nil, 400, "is a directory")
	fails(t, s, "DELETE", v1+"/sandbox/files/files", nil, 400, "path is required")

	var deleted struct{ Path string }
	ok(t, s, "DELETE", v1+"/sandbox/files/files?path="+filepath.Join(dir, "blob.bin"), nil, &deleted)
	if deleted.Path != filepath.Join(dir, "blob.bin") {
		t.Errorf("delete: %+v", deleted)
	}
	fails(t, s, "GET", v1+"/sandbox/files/files/download?path="+filepath.Join(dir, "blob.bin"), nil, 404, "")
	fails(t, s, "DELETE", v1+"/sandbox/files/files?path="+filepath.Join(dir, "blob.bin"), nil, 404, "")
}

func TestLogsAndEvents(t *testing.T) {
	s := servertest.New(t)
	// A template whose start command prints three lines, then one more each time the file
	// next appears (the fake driver's sandboxes share the host's filesystem).
	next := filepath.Join(t.TempDir(), "next")
	ts := []template.Template{{Name: "talker", Image: "base", Description: "prints lines", User: servertest.User,
		StartCmd: "echo line-1; echo line-2 >&2; printf 'line-3'; i=4; while :; do if [ -e " + next +
			" ]; then rm " + next + "; echo; printf line-$i; i=$((i+1)); fi; sleep 0.02; done"}}
	ok(t, s, "POST", v1+"/config/templates", ts, nil)
	ok(t, s, "POST", v1+"/sandbox", map[string]any{"name": "logged", "template": "talker"}, nil)
	var logs struct {
		Sandbox, Logs string
	}
	// The start command runs in the background: wait for its first lines. Its stdout and
	// stderr are two pipes, so their lines may arrive in either order.
	for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.Logs, "\n") < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ok(t, s, "GET", v1+"/logs/sandbox/logged", nil, &logs)
	}
	// line-3 has no newline yet: it is not a line until the next one begins.
	got := strings.Split(strings.TrimSuffix(logs.Logs, "\n"), "\n")
	if sorted := slices.Sorted(slices.Values(got)); logs.Sandbox != "logged" || !slices.Equal(sorted, []string{"line-1", "line-2"}) {
		t.Fatalf("logs: %+v", logs)
	}
	last := got[1]
	if ok(t, s, "GET", v1+"/logs/sandbox/logged?tailLines=1", nil, &logs); logs.Logs != last+"\n" {
		t.Errorf("tailLines=1: %q, want %q", logs.Logs, last)
	}
	fails(t, s, "GET", v1+"/logs/sandbox/logged?tailLines=0", nil, 400, "tailLines")
	fails(t, s, "GET", v1+"/logs/sandbox/logged?tailLines=x", nil, 400, "tailLines")
	fails(t, s, "GET", v1+"/logs/sandbox/logged?follow=maybe", nil, 400, "follow")
	fails(t, s, "GET", v1+"/logs/sandbox/nobody", nil, 404, "not found")

	// follow: the tail, then each new line as the start command prints it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+v1+"/logs/sandbox/logged?tailLines=1&follow=true", nil)
	req.Header.Set("Authorization", "Bearer "+servertest.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	want := []string{last, "line-3", "line-4", "line-5"}
	for i, w := range want {
		if i > 0 {
			if err := os.WriteFile(next, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if !lines.Scan() || lines.Text() != w {
			t.Fatalf("follow: line %d = %q (%v), want %q", i, lines.Text(), lines.Err(), w)
		}
	}
	cancel()

	create(t, s, "other")
	ok(t, s, "DELETE", v1+"/sandbox/other", nil, nil)
	var evs struct {
		Items []struct {
			Reason, Type, Message string
			InvolvedObject        struct{ Kind, Name string }
		}
	}
	ok(t, s, "GET", v1+"/events", nil, &evs)
	if len(evs.Items) != 5 || evs.Items[0].Reason != "SandboxDeleted" || evs.Items[0].InvolvedObject.Name != "other" ||
		evs.Items[0].Type != "Normal" || evs.Items[0].InvolvedObject.Kind != "Sandbox" {
		t.Errorf("events (newest first, lifecycle only): %+v", evs)
	}
	if ok(t, s, "GET", v1+"/events?sandbox=logged&limit=1", nil, &evs); len(evs.Items) != 1 || evs.Items[0].InvolvedObject.Name != "logged" {
		t.Errorf("events of one sandbox: %+v", evs)
	}
	fails(t, s, "GET", v1+"/events?limit=-1", nil, 400, "limit")
}
