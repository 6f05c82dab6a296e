package native_test

import (
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/api/native"
)

func TestDownloadTarget(t *testing.T) {
	for _, c := range []struct {
		path, sandbox, file string
		ok                  bool
	}{
		{"/sandboxes/box/files/tmp/a b.txt", "box", "tmp/a b.txt", true},
		{"/sandboxes/box/files/tmp/files/x", "box", "tmp/files/x", true},
		{"/sandboxes/box/files/", "", "", false},
		{"/sandboxes//files/x", "", "", false},
		{"/sandboxes/box", "", "", false},
		{"/sandboxes/box/exec", "", "", false},
		{"/sandboxes/a/b/files/x", "", "", false},
		{"/e2b/sandboxes/box/files/x", "", "", false},
	} {
		sb, file, ok := native.DownloadTarget(c.path)
		if sb != c.sandbox || file != c.file || ok != c.ok {
			t.Errorf("%q: %q %q %v, want %q %q %v", c.path, sb, file, ok, c.sandbox, c.file, c.ok)
		}
	}
}

// FuzzDownloadTarget: whatever the request path, a target it finds is the whole path again
// (no part of it is skipped) and names no sandbox with a slash.
func FuzzDownloadTarget(f *testing.F) {
	for _, s := range []string{"/sandboxes/box/files/tmp/x", "/sandboxes/a/files/", "/sandboxes/files/files/files/", "/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		sb, file, ok := native.DownloadTarget(p)
		if !ok {
			return
		}
		if "/sandboxes/"+sb+"/files/"+file != p || sb == "" || file == "" || strings.Contains(sb, "/") {
			t.Fatalf("%q: %q %q", p, sb, file)
		}
	})
}
