package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
)

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"research-agent": "research-agent", "Research Agent": "research-agent", "  My_Bot.v2 ": "my_bot.v2",
		"--lead": "lead", "a!!b": "a-b", "trail--": "trail", "Ünïcode": "n-code",
	} {
		if got, err := SanitizeName("name", in); err != nil || got != want {
			t.Errorf("SanitizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "!!!", "---", strings.Repeat("a", 64)} {
		if _, err := SanitizeName("new_name", in); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "new_name:") {
			t.Errorf("SanitizeName(%q): %v, want a 400 naming new_name", in, err)
		}
	}
}

func TestResources(t *testing.T) {
	l := Limits{}.withDefaults()
	for in, want := range map[string]int64{"512m": 512, "4g": 4096, "4G": 4096, "4Gi": 4096, "2048M": 2048, "64g": 65536} {
		if got, err := l.ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "4", "4x", "100m", "65g", "-1g", "1.5g", "g", "99999999999999999999g"} {
		if _, err := l.ParseMemory(in); err == nil || !strings.HasPrefix(err.Error(), "resources.memory:") {
			t.Errorf("ParseMemory(%q): %v, want a 400 naming resources.memory", in, err)
		}
	}
	for _, in := range []string{"1", "16", " 2 "} {
		if _, err := l.ParseCPU(in); err != nil {
			t.Errorf("ParseCPU(%q): %v", in, err)
		}
	}
	for _, in := range []string{"0", "17", "1.5", "two", ""} {
		if _, err := l.ParseCPU(in); err == nil || !strings.HasPrefix(err.Error(), "resources.cpu:") {
			t.Errorf("ParseCPU(%q): %v, want a 400 naming resources.cpu", in, err)
		}
	}
}

func TestWritableDir(t *testing.T) {
	for in, want := range map[string]string{"content/*": "content", "output/**": "output", "reports/": "reports",
		"reports": "reports", "a/b/*": "a/b", ".trinity/": ".trinity"} {
		if got, ok := WritableDir(in); !ok || got != want {
			t.Errorf("WritableDir(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"*.log", "*.txt", ".trinity/operator-queue.json", "notes.md", "../x/*", "a/../b", "*", "out*/x", ""} {
		if got, ok := WritableDir(in); ok {
			t.Errorf("WritableDir(%q) = %q, want no directory", in, got)
		}
	}
}

func TestTags(t *testing.T) {
	got, err := NormalizeTags([]string{" Prod", "staging", "prod", "", "a-1"})
	if err != nil || strings.Join(got, ",") != "a-1,prod,staging" {
		t.Errorf("NormalizeTags: %v %v", got, err)
	}
	for _, in := range [][]string{{"has space"}, {strings.Repeat("x", 51)}, make([]string, 101)} {
		if _, err := NormalizeTags(in); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("NormalizeTags(%.40q): %v", in, err)
		}
	}
}

func TestTrimLog(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{{"abc\n", 10, "abc\n"}, {"one\ntwo\nthree\n", 10, "three\n"}, {"0123456789abcdef", 4, "cdef"}, {"x\n", 0, "x\n"}} {
		if got := string(TrimLog([]byte(c.in), c.max)); got != c.want {
			t.Errorf("TrimLog(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

// FuzzParse feeds untrusted names, sizes and patterns through the parsers: none panics, and
// what they accept is within the rules.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"research-agent", "4g", "512m", "output/**", "../x", "\x00", "Ü"} {
		f.Add(s)
	}
	l := Limits{}.withDefaults()
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := SanitizeName("name", s); err == nil && (n == "" || len(n) > maxNameLen || nameBad.MatchString(n)) {
			t.Errorf("SanitizeName(%q) accepted %q", s, n)
		}
		if mb, err := l.ParseMemory(s); err == nil && (mb < l.MinMemoryMB || mb > l.MaxMemoryMB) {
			t.Errorf("ParseMemory(%q) = %d", s, mb)
		}
		if d, ok := WritableDir(s); ok && (strings.HasPrefix(d, "/") || strings.Contains("/"+d+"/", "/../")) {
			t.Errorf("WritableDir(%q) = %q leaves the workspace", s, d)
		}
	})
}
