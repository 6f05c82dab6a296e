package fs

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
)

// dirMode is the mode of directories the guest creates.
const dirMode = 0o755

// mkdirAllAs creates dir and its missing parents with dirMode, giving each directory it
// creates (and only those) to u. A non-directory in the way is ErrInvalidArgument.
func mkdirAllAs(dir string, u *guestenv.User) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return errdefs.InvalidArgument("path %s exists and is not a directory", dir)
	case !notExist(err):
		return osError("stat", dir, err)
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAllAs(parent, u); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			// Lost a race, or a dangling symlink is in the way.
			if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
				return nil
			}
			return errdefs.InvalidArgument("path %s exists and is not a directory", dir)
		}
		return osError("mkdir", dir, err)
	}
	// Best effort: an unprivileged guest (tests, the fake driver) cannot give files away.
	_ = os.Lchown(dir, int(u.UID), int(u.GID))
	_ = os.Chmod(dir, dirMode) // undo the umask
	return nil
}

// notExist reports whether err says a looked-up path is missing.
func notExist(err error) bool {
	return errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
