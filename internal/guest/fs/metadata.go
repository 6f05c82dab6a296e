package fs

import (
	"net/http"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits on file metadata, as envd enforces them.
const (
	maxMetaKey   = 246
	maxMetaTotal = 4096
)

// parseMetadata collects X-Metadata-<Key> headers (keys lowercased).
func parseMetadata(h http.Header) (map[string]string, error) {
	var out map[string]string
	total := 0
	for name, vals := range h {
		key, ok := strings.CutPrefix(strings.ToLower(name), "x-metadata-")
		if !ok || len(vals) == 0 {
			continue
		}
		if key == "" || len(key) > maxMetaKey || !printable(key) || !printable(vals[0]) {
			return nil, errorf(http.StatusBadRequest, "invalid metadata header %s: keys of 1-%d and values of printable ASCII only", name, maxMetaKey)
		}
		total += len(key) + len(vals[0])
		if total > maxMetaTotal {
			return nil, errorf(http.StatusBadRequest, "metadata exceeds %d bytes", maxMetaTotal)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[key] = vals[0]
	}
	return out, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// setMetadata replaces the file's user.e2b.* xattrs with meta.
func setMetadata(path string, meta map[string]string) error {
	for k := range readMetadata(path) {
		_ = unix.Lremovexattr(path, metaPrefix+k)
	}
	for k, v := range meta {
		if err := unix.Lsetxattr(path, metaPrefix+k, []byte(v), 0); err != nil {
			return errorf(http.StatusBadRequest, "cannot store metadata %s: %v", k, err)
		}
	}
	return nil
}
