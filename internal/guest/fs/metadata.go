package fs

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
)

// File metadata lives in xattrs under metaPrefix, set from X-Metadata-<Key> headers of
// uploads; the limits are envd's.
const (
	metaPrefix   = "user.e2b."
	metaHeader   = "x-metadata-"
	maxMetaKey   = 246
	maxMetaTotal = 4096
	// maxXattrList bounds what is read back of a file's xattrs.
	maxXattrList = 64 << 10
)

// parseMetadata collects X-Metadata-<Key> headers into lowercased keys. Keys and values must
// be printable ASCII, keys at most maxMetaKey bytes, all of it at most maxMetaTotal.
func parseMetadata(h http.Header) (map[string]string, error) {
	var out map[string]string
	total := 0
	for name, vals := range h {
		key, ok := strings.CutPrefix(strings.ToLower(name), metaHeader)
		if !ok || len(vals) == 0 {
			continue
		}
		val := vals[0]
		if key == "" || len(key) > maxMetaKey || !printable(key) || !printable(val) {
			return nil, errdefs.InvalidArgument("invalid metadata header %s: keys of 1-%d bytes and values of printable ASCII only", name, maxMetaKey)
		}
		if total += len(key) + len(val); total > maxMetaTotal {
			return nil, errdefs.InvalidArgument("metadata exceeds %d bytes", maxMetaTotal)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[key] = val
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

// readMetadata returns the metadata of path (never following a final symlink), or nil.
func readMetadata(path string) map[string]string {
	list, err := readXattr(func(b []byte) (int, error) { return unix.Llistxattr(path, b) })
	if err != nil {
		return nil
	}
	var out map[string]string
	for _, name := range strings.Split(string(list), "\x00") {
		key, ok := strings.CutPrefix(name, metaPrefix)
		if !ok || key == "" {
			continue
		}
		val, err := readXattr(func(b []byte) (int, error) { return unix.Lgetxattr(path, name, b) })
		if err != nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[key] = string(val)
	}
	return out
}

// readXattr calls get with a buffer of the size it reports, retrying if the attribute grew
// in between.
func readXattr(get func([]byte) (int, error)) ([]byte, error) {
	for range 3 {
		n, err := get(nil)
		if err != nil || n == 0 {
			return nil, err
		}
		if n > maxXattrList {
			return nil, unix.E2BIG
		}
		buf := make([]byte, n)
		n, err = get(buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, unix.ERANGE
}

// replaceMetadata makes meta the whole metadata of the open file f.
func replaceMetadata(f *os.File, meta map[string]string) error {
	fd := int(f.Fd())
	list, err := readXattr(func(b []byte) (int, error) { return unix.Flistxattr(fd, b) })
	if err != nil && !errors.Is(err, unix.ENOTSUP) {
		return osError("list xattrs of", f.Name(), err)
	}
	for _, name := range strings.Split(string(list), "\x00") {
		if strings.HasPrefix(name, metaPrefix) {
			_ = unix.Fremovexattr(fd, name)
		}
	}
	for k, v := range meta {
		if err := unix.Fsetxattr(fd, metaPrefix+k, []byte(v), 0); err != nil {
			return metadataError(f.Name(), err)
		}
	}
	return nil
}

func metadataError(path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOTSUP):
		return errdefs.InvalidArgument("the filesystem of %s does not support file metadata", path)
	case errors.Is(err, unix.E2BIG), errors.Is(err, unix.ERANGE), errors.Is(err, syscall.ENOSPC):
		return errdefs.InvalidArgument("metadata too large for the filesystem of %s", path)
	}
	return osError("set metadata of", path, err)
}
