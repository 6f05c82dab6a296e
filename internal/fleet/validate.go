package fleet

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
)

// FieldError is bad input in one request field; its message starts with the field's name.
func fieldError(field, format string, args ...any) error {
	return errdefs.InvalidArgument("%s: %s", field, fmt.Sprintf(format, args...))
}

var (
	nameBad      = regexp.MustCompile(`[^a-z0-9_.-]`)
	nameDashes   = regexp.MustCompile(`-+`)
	nameLeadJunk = regexp.MustCompile(`^[^a-z0-9]+`)
)

// maxNameLen is upstream's limit (a Docker name there, a label here).
const maxNameLen = 63

// SanitizeName applies upstream's naming rule: lowercase, characters other than letters,
// digits, '_', '.' and '-' become '-', runs of '-' collapse, leading non-alphanumerics and
// trailing '-' go. A name that is empty afterwards or longer than 63 is a 400 naming field.
func SanitizeName(field, name string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(name))
	s = nameBad.ReplaceAllString(s, "-")
	s = nameLeadJunk.ReplaceAllString(s, "")
	s = nameDashes.ReplaceAllString(s, "-")
	s = strings.TrimRight(s, "-")
	switch {
	case s == "":
		return "", fieldError(field, "%q has no letters or digits: use letters, digits, '-', '_' or '.'", name)
	case len(s) > maxNameLen:
		return "", fieldError(field, "agent name too long (max %d characters)", maxNameLen)
	}
	return s, nil
}

// Limits bound what an agent may ask for.
type Limits struct {
	MaxCPU      int   // default 16
	MinMemoryMB int64 // default 512
	MaxMemoryMB int64 // default 64 GiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxCPU <= 0 {
		l.MaxCPU = 16
	}
	if l.MinMemoryMB <= 0 {
		l.MinMemoryMB = 512
	}
	if l.MaxMemoryMB <= 0 {
		l.MaxMemoryMB = 64 << 10
	}
	return l
}

// ParseCPU reads a CPU count "1".."16" (a whole number, as upstream's choices are).
func (l Limits) ParseCPU(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > l.MaxCPU {
		return 0, fieldError("resources.cpu", "%q: use a whole number of CPUs from 1 to %d", s, l.MaxCPU)
	}
	return n, nil
}

// ParseMemory reads a size like "512m", "4g" or "4Gi" into MiB, within the limits.
func (l Limits) ParseMemory(s string) (int64, error) {
	bad := fieldError("resources.memory", "%q: use a size like \"512m\" or \"4g\" from %dm to %dg", s, l.MinMemoryMB, l.MaxMemoryMB>>10)
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "i"), "b")
	if t == "" {
		return 0, bad
	}
	mult := int64(1)
	switch t[len(t)-1] {
	case 'm':
		t = t[:len(t)-1]
	case 'g':
		mult, t = 1024, t[:len(t)-1]
	default:
		return 0, bad
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > l.MaxMemoryMB {
		return 0, bad
	}
	mb := n * mult
	if mb < l.MinMemoryMB || mb > l.MaxMemoryMB {
		return 0, bad
	}
	return mb, nil
}

// CheckTimeout validates execution_timeout_seconds.
func CheckTimeout(s int) error {
	if s < MinTimeoutSeconds || s > MaxTimeoutSeconds {
		return fieldError("execution_timeout_seconds", "must be an integer between %d and %d (1 min to 2 hours)", MinTimeoutSeconds, MaxTimeoutSeconds)
	}
	return nil
}

// NormalizeTags lowercases, trims, drops blanks and duplicates and sorts, refusing what
// upstream refuses: more than 100 tags, a tag over 50 characters, characters other than
// letters, digits and '-'.
func NormalizeTags(tags []string) ([]string, error) {
	if len(tags) > 100 {
		return nil, fieldError("tags", "too many tags (max 100)")
	}
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		n := strings.ToLower(strings.TrimSpace(t))
		if n == "" || seen[n] {
			continue
		}
		if len(n) > 50 {
			return nil, fieldError("tags", "tag too long (max 50 characters): %.60s", n)
		}
		for _, c := range n {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return nil, fieldError("tags", "tags can only contain letters, numbers, and hyphens")
			}
		}
		seen[n] = true
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// CheckPatterns validates read-only glob patterns: relative, no "..", at most 200 of 256
// characters each.
func CheckPatterns(field string, ps []string) error {
	if len(ps) > 200 {
		return fieldError(field, "too many patterns (max 200)")
	}
	for _, p := range ps {
		if p == "" || len(p) > 256 || strings.HasPrefix(p, "/") || strings.Contains(p, "\x00") {
			return fieldError(field, "%q: use a non-empty relative glob of at most 256 characters", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fieldError(field, "%q is not a valid glob", p)
		}
		for _, el := range strings.Split(p, "/") {
			if el == ".." {
				return fieldError(field, "%q leaves the workspace", p)
			}
		}
	}
	return nil
}

// WritableDir is the workspace directory an allowed pattern names, when it names one:
// "content/*", "output/**", "reports/" and "reports" name content, output and reports. A
// pattern with a glob elsewhere ("*.log") or whose last element has an extension
// (".trinity/operator-queue.json") names files, which mounts cannot express.
func WritableDir(pattern string) (string, bool) {
	d := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(pattern, "/**"), "/*"), "/")
	if d == "" || d == "." || path.IsAbs(d) || strings.ContainsAny(d, "*?[]\\") || path.Clean(d) != d || strings.HasPrefix(d, "../") || d == ".." {
		return "", false
	}
	if d == pattern && strings.Contains(path.Base(d), ".") {
		return "", false // a file name like notes.txt or .env
	}
	return d, true
}
