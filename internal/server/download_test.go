package server_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
)

// TestDownloadURL: a download URL streams one file of one sandbox without the key, as the
// user who asked; it opens nothing else, is no key itself, and is refused to who cannot
// read the file.
func TestDownloadURL(t *testing.T) {
	s := accountsServer(t)
	admin := servertest.Key
	if code, _, msg := call[map[string]any](t, s, "POST", "/sandboxes", map[string]any{"name": "dl"}, admin); code != 201 && code != 200 {
		t.Fatalf("create: %d %s", code, msg)
	}
	content := make([]byte, 3<<20+5)
	_, _ = rand.Read(content)
	if resp, raw := s.Do(servertest.Request{Method: "PUT", Path: "/sandboxes/dl/files/tmp/dir%20a/big.bin", Body: content,
		Header: http.Header{"Content-Type": {"application/octet-stream"}}}); resp.StatusCode != 200 {
		t.Fatalf("write: %d %s", resp.StatusCode, raw)
	}
	code, u, msg := call[apitype.DownloadURL](t, s, "POST", "/sandboxes/dl/download-url", apitype.DownloadURLRequest{Path: "/tmp/dir a/big.bin"}, admin)
	if code != 200 || !strings.HasPrefix(u.URL, "/sandboxes/dl/files/tmp/dir%20a/big.bin?") || u.ExpiresAt == "" {
		t.Fatalf("download-url: %d %+v %s", code, u, msg)
	}
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: u.URL, Key: servertest.NoKey})
	if resp.StatusCode != 200 || !bytes.Equal(raw, content) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("GET the URL without a key: %d, %d bytes, %q", resp.StatusCode, len(raw), resp.Header.Get("Content-Disposition"))
	}
	parsed, err := url.Parse(u.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok := parsed.Query().Get("download")
	refused := []struct{ what, method, path, key string }{
		{"another file of the sandbox", "GET", "/sandboxes/dl/files/etc/passwd?raw=1&download=" + url.QueryEscape(tok), servertest.NoKey},
		{"a tampered token", "GET", "/sandboxes/dl/files/tmp/dir%20a/big.bin?raw=1&download=" + url.QueryEscape(tok+"x"), servertest.NoKey},
		{"another route", "GET", "/sandboxes/dl?download=" + url.QueryEscape(tok), servertest.NoKey},
		{"a write", "PUT", "/sandboxes/dl/files/tmp/dir%20a/big.bin?download=" + url.QueryEscape(tok), servertest.NoKey},
		{"the token as a key", "GET", "/sandboxes", tok},
	}
	for _, c := range refused {
		if resp, raw := s.Do(servertest.Request{Method: c.method, Path: c.path, Key: c.key, Body: ""}); resp.StatusCode != 401 {
			t.Errorf("%s: %d %s, want 401", c.what, resp.StatusCode, raw)
		}
	}
	// Bob cannot see the sandbox, so he gets no URL for its files.
	if code, _, msg := call[client.User](t, s, "POST", "/users", client.CreateUserRequest{Email: "bob@example.com"}, admin); code != 201 {
		t.Fatalf("create bob: %d %s", code, msg)
	}
	_, bob, _ := call[client.NewAPIKey](t, s, "POST", "/users/bob@example.com/keys", client.CreateKeyRequest{}, admin)
	if code, _, _ := call[apitype.DownloadURL](t, s, "POST", "/sandboxes/dl/download-url", apitype.DownloadURLRequest{Path: "/tmp/dir a/big.bin"}, bob.Key); code != 404 {
		t.Errorf("bob asks for a URL of the admin's file: %d, want 404", code)
	}
	for _, bad := range []apitype.DownloadURLRequest{{Path: ""}, {Path: "/tmp/dir a/big.bin", ExpiresIn: 301}, {Path: "/tmp/dir a/big.bin", ExpiresIn: -1}} {
		if code, _, _ := call[apitype.DownloadURL](t, s, "POST", "/sandboxes/dl/download-url", bad, admin); code != 400 {
			t.Errorf("%+v: %d, want 400", bad, code)
		}
	}
	if code, _, _ := call[apitype.DownloadURL](t, s, "POST", "/sandboxes/dl/download-url", apitype.DownloadURLRequest{Path: "/tmp/none"}, admin); code != 404 {
		t.Errorf("a missing file: %d, want 404", code)
	}
}
