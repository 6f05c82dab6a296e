package image

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/sandbox"
)

// baseVersion names the skeleton layout. Bump it whenever skeleton() changes: a new version
// is built next to the old one, which running sandboxes may still use as their lower dir and
// which is therefore never modified in place.
const baseVersion = "v3"

// basePath is the PATH of processes in the base image.
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// hostBindDirs are host directories bound read-only when they exist: CA certificates, and
// Debian's alternatives (/usr/bin/awk, node, editor... are symlinks through
// /etc/alternatives, which itself holds only symlinks into /usr).
// Fonts are for programs that render text (matplotlib, headless browsers).
var hostBindDirs = []string{"/etc/ssl/certs", "/etc/alternatives", "/etc/fonts"}

// hostBindFiles are host files bound read-only when they exist: configuration that Debian's
// packages in /usr cannot work without (matplotlib refuses to start without its rc file).
var hostBindFiles = []string{"/etc/matplotlibrc"}

// prepareBase makes sure the skeleton exists under dir and describes the base image. host is
// the root of the host filesystem ("/"; tests pass a fake one).
func prepareBase(dir, host string, log *slog.Logger) (*sandbox.Image, error) {
	root := filepath.Join(dir, baseVersion, "rootfs")
	if err := ensureSkeleton(root, host, log); err != nil {
		return nil, fmt.Errorf("prepare base image: %w", err)
	}
	return &sandbox.Image{
		Ref:    Base,
		Layers: []string{root},
		Binds:  baseBinds(root, host),
		Config: sandbox.ImageConfig{Env: []string{"PATH=" + basePath, "LANG=C.UTF-8"}},
	}, nil
}

// baseBinds lists the host directories the base image mounts: /usr, the optional
// hostBindDirs, and the top-level dirs the skeleton holds as mount points because the host
// is not usr-merged. It reads the skeleton, not the host's /, so that binds and skeleton
// agree even if the host's layout changed after the skeleton was built.
func baseBinds(root, host string) []sandbox.Bind {
	bind := func(p string) sandbox.Bind { return sandbox.Bind{Source: filepath.Join(host, p), Destination: p} }
	binds := []sandbox.Bind{bind("/usr")}
	for _, d := range hostBindDirs {
		if isDir(filepath.Join(host, d)) {
			binds = append(binds, bind(d))
		}
	}
	for _, f := range hostBindFiles {
		if fi, err := os.Stat(filepath.Join(host, f)); err == nil && fi.Mode().IsRegular() {
			binds = append(binds, bind(f))
		}
	}
	for _, name := range usrMerged {
		fi, err := os.Lstat(filepath.Join(root, name))
		if err == nil && fi.IsDir() && isDir(filepath.Join(host, name)) {
			binds = append(binds, bind("/"+name))
		}
	}
	return binds
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// ensureSkeleton builds the skeleton at root unless it is there already. Builders, in this
// process or another, take an exclusive lock next to it; the skeleton appears by one rename,
// so nobody ever sees it half-built, and a builder that died left only a ".build-" dir,
// which the next builder removes under the lock.
func ensureSkeleton(root, host string, log *slog.Logger) error {
	if ok, err := exists(root); ok || err != nil {
		return err
	}
	parent := filepath.Dir(root)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	unlock, err := lock(filepath.Join(parent, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if ok, err := exists(root); ok || err != nil {
		return err // another builder finished while we waited
	}
	if err := removeStaleBuilds(parent); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := writeSkeleton(tmp, skeleton(host)); err != nil {
		return err
	}
	if err := os.Rename(tmp, root); err != nil {
		return err
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	log.Info("built base image skeleton", "path", root)
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// lock takes an exclusive flock on path, which the kernel releases if the process dies.
func lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the last descriptor releases the lock
}

func removeStaleBuilds(parent string) error {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build-") {
			if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
