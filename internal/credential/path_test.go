package credential

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
)

func TestClean(t *testing.T) {
	ok := map[string]string{
		".env":                          ".env",
		".mcp.json":                     ".mcp.json",
		".config/gcloud/key.json":       ".config/gcloud/key.json",
		"./a//b/./c":                    "a/b/c",
		"dir/..file":                    "dir/..file",
		"with space/é.txt":              "with space/é.txt",
		strings.Repeat("a", 255):        strings.Repeat("a", 255),
		"..hidden":                      "..hidden",
		"back\\slash":                   "back\\slash",
		"x/" + strings.Repeat("b", 200): "x/" + strings.Repeat("b", 200),
	}
	for in, want := range ok {
		if got, err := Clean(in); err != nil || got != want {
			t.Errorf("Clean(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"", "/etc/x", "/home/developer/.env", "../x", "a/../../x", "a/..", "..", ".", "./", "a/", "a\x00b",
		"a\nb", "a\x7fb", strings.Repeat("a", 256), strings.Repeat("a/", 257) + "a"}
	for _, in := range bad {
		_, err := Clean(in)
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "credential path ") {
			t.Errorf("Clean(%q) = %v, want an invalid argument naming the path", in, err)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{".env", "../x", "/etc/x", "a/./b", "a//b", "a/../b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := Clean(p)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error of another class: %v", err)
			}
			return
		}
		if c == "" || c == "." || strings.HasPrefix(c, "/") || strings.ContainsRune(c, 0) || len(c) > MaxPathLen {
			t.Fatalf("Clean(%q) = %q", p, c)
		}
		for _, el := range strings.Split(c, "/") {
			if el == ".." || el == "." || el == "" {
				t.Fatalf("Clean(%q) = %q keeps element %q", p, c, el)
			}
		}
		if again, err := Clean(c); err != nil || again != c {
			t.Fatalf("Clean is not idempotent on %q: %q, %v", c, again, err)
		}
	})
}
