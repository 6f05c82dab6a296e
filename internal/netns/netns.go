// Package netns creates, enters and removes network namespaces pinned by a bind mount on a
// file, the way `ip netns` does, but at a path the caller chooses (a sandbox's own directory)
// so that nothing outside it is touched. Linux only; it needs CAP_SYS_ADMIN.
package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Create makes a new network namespace, brings its loopback interface up and pins it at
// path (a new file). On error nothing is left at path.
func Create(path string) (err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("create netns file: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			_ = Remove(path)
		}
	}()
	return onNewThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare network namespace: %w", err)
		}
		self := "/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/ns/net"
		if err := unix.Mount(self, path, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("pin network namespace at %s: %w", path, err)
		}
		return linkUp("lo")
	})
}

// Do runs fn on an OS thread that has entered the namespace pinned at path. Sockets and
// devices fn opens belong to that namespace; the thread is discarded afterwards, so the
// caller's threads never change namespace.
func Do(path string, fn func() error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open netns: %w", err)
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("%s is not a pinned network namespace", path)
	}
	return onNewThread(func() error {
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter netns %s: %w", path, err)
		}
		return fn()
	})
}

// Remove unpins the namespace at path and deletes the file. The namespace itself goes away
// once no process and no open file uses it. A missing path is not an error.
func Remove(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unpin netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove netns file: %w", err)
	}
	return nil
}

// Pinned reports whether a namespace is pinned at path.
func Pinned(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// onNewThread runs fn on a fresh goroutine locked to its OS thread and never unlocks it: Go
// then ends the thread with the goroutine, so a namespace change cannot leak into others.
func onNewThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- fn()
	}()
	return <-errc
}
