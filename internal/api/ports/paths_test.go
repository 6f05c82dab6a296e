package ports

import (
	"net/http"
	"strings"
	"testing"
)

func TestPrefixOf(t *testing.T) {
	for _, c := range []struct {
		path string
		n    int
		want string
	}{
		{"/sandboxes/x/ports/8080/a/b", 4, "/sandboxes/x/ports/8080"},
		{"/sandboxes/x/ports/8080/", 4, "/sandboxes/x/ports/8080"},
		{"/sandbox/x/", 2, "/sandbox/x"},
		{"/sandbox/x/a%2Fb", 2, "/sandbox/x"},
		{"/short", 4, "/short"},
	} {
		if got := prefixOf(c.path, c.n); got != c.want {
			t.Errorf("prefixOf(%q, %d) = %q, want %q", c.path, c.n, got, c.want)
		}
	}
}

func TestNumericPortSegment(t *testing.T) {
	for path, want := range map[string]bool{
		"/sandboxes/router/abc/8080/x": true,
		"/sandboxes/router/abc/0/":     true,
		"/sandboxes/router/abc/http/":  false,
		"/sandboxes/router/exec/":      false,
		"/sandboxes/router/abc//":      false,
		"/sandboxes/router":            false,
	} {
		if got := numericPortSegment(path); got != want {
			t.Errorf("numericPortSegment(%q) = %v", path, got)
		}
	}
}

func TestDropCookieKeepsTheApps(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://x/", nil)
	r.Header.Set("Cookie", "a=1; "+TokenCookie+"=secret; b=2")
	dropCookie(r, TokenCookie)
	if got := r.Header.Get("Cookie"); got != "a=1; b=2" {
		t.Errorf("cookies after drop: %q", got)
	}
	r.Header.Set("Cookie", "only=1")
	dropCookie(r, TokenCookie)
	if got := r.Header.Get("Cookie"); got != "only=1" {
		t.Errorf("untouched cookies changed: %q", got)
	}
}

// FuzzRoutePaths feeds arbitrary request paths to the path helpers: they must not panic, and
// a prefix is always a prefix of the path.
func FuzzRoutePaths(f *testing.F) {
	for _, s := range []string{"/sandboxes/x/ports/8080/a", "/", "", "//", "/sandbox/x", "/sandboxes/router/a/1/"} {
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, path string, n int) {
		if !strings.HasPrefix(path, "/") || n < 0 || n > 8 {
			return
		}
		if p := prefixOf(path, n); !strings.HasPrefix(path, p) {
			t.Fatalf("prefixOf(%q, %d) = %q is not a prefix", path, n, p)
		}
		numericPortSegment(path)
	})
}
