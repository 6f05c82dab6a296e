package fs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
)

// fileMode is the mode of files the guest creates; an existing file keeps its own.
const fileMode = 0o644

// writeFile streams src into path, which it creates or truncates, and gives it to u with
// meta as its whole metadata. Missing parent directories are created for u.
//
// The file is written in place, as envd does, rather than through a temporary file and a
// rename: an existing file keeps its mode and hard links, bind-mounted files (/etc/hosts)
// stay writable, and watchers see a write event on the real name. The price is that readers
// can see a partial file and a failed upload leaves one. A symlink at the final component
// is never written through: open uses O_NOFOLLOW and a symlink found there is replaced.
func writeFile(path string, src io.Reader, u *guestenv.User, meta map[string]string) (res uploaded, err error) {
	res = uploaded{Path: path, Name: filepath.Base(path), Type: "file", Metadata: meta}
	if err := mkdirAllAs(filepath.Dir(path), u); err != nil {
		return res, err
	}
	f, err := openForWrite(path)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = osError("write", path, cerr)
		}
	}()
	if err := replaceMetadata(f, meta); err != nil {
		return res, err
	}
	if _, err := io.Copy(f, bodyReader{src}); err != nil {
		var be *bodyError
		if errors.As(err, &be) {
			return res, errdefs.InvalidArgument("cannot read the upload for %s: %v", path, be.err)
		}
		return res, osError("write", path, err)
	}
	// Best effort: an unprivileged guest (tests, the fake driver) cannot give files away.
	_ = f.Chown(int(u.UID), int(u.GID))
	return res, nil
}

// openForWrite opens path for writing, created or truncated, without following a symlink
// at its final component: such a symlink is removed and the open retried. O_NONBLOCK keeps
// a FIFO from blocking the open; anything but a regular file is refused.
func openForWrite(path string) (*os.File, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, flags, fileMode)
		if err == nil {
			return checkRegular(f, path)
		}
		if !errors.Is(err, syscall.ELOOP) || attempt == 2 {
			if errors.Is(err, syscall.ENXIO) { // a FIFO nobody reads
				return nil, errdefs.InvalidArgument("path %s is not a regular file", path)
			}
			return nil, osError("open", path, err)
		}
		fi, lerr := os.Lstat(path)
		if lerr != nil || fi.Mode()&os.ModeSymlink == 0 {
			return nil, osError("open", path, err) // ELOOP from a parent: a symlink loop
		}
		if rerr := os.Remove(path); rerr != nil && !notExist(rerr) {
			return nil, osError("replace symlink", path, rerr)
		}
	}
}

// checkRegular returns f if it is a regular file, else closes it.
func checkRegular(f *os.File, path string) (*os.File, error) {
	fi, err := f.Stat()
	if err == nil && fi.Mode().IsRegular() {
		return f, nil
	}
	f.Close()
	if err != nil {
		return nil, osError("stat", path, err)
	}
	return nil, errdefs.InvalidArgument("path %s is not a regular file", path)
}

// bodyReader marks read errors as the client's, so they are not taken for disk errors.
type bodyReader struct{ r io.Reader }

type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}
