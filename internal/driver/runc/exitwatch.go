package runc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.ExitWatcher = (*Driver)(nil)

// watches holds the exit watches of running sandboxes, by ID. The zero value is ready.
type watches struct {
	mu sync.Mutex
	m  map[string]*os.File // the init's pidfd, in the runtime's poller
}

// WatchExit implements sandbox.ExitWatcher with a pidfd of the init recorded in the pid
// file, opened once the init is proven to be in the sandbox's cgroup (the pidfd pins it: a
// reused pid cannot be mistaken for it later). A pidfd becomes readable when its process
// exits; the goroutine waiting for that is parked in Go's poller and holds no thread.
func (d *Driver) WatchExit(ctx context.Context, id string, exited func(id string)) error {
	if !idRE.MatchString(id) {
		return errdefs.NotFound("sandbox %q not found", id)
	}
	p := d.paths(id)
	if _, err := os.Stat(p.instance()); os.IsNotExist(err) {
		return errdefs.NotFound("sandbox %s not found", id)
	}
	pid := readPid(p.pidFile())
	if pid <= 0 {
		return errdefs.FailedPrecondition("sandbox %s is not running", id)
	}
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.ESRCH) {
		return errdefs.FailedPrecondition("sandbox %s is not running", id)
	}
	if err != nil {
		return fmt.Errorf("watch %s: pidfd_open: %w", id, err)
	}
	if !d.inCgroup(pid, id) {
		unix.Close(fd)
		return errdefs.FailedPrecondition("sandbox %s is not running", id)
	}
	f := os.NewFile(uintptr(fd), "init-pidfd") // non-blocking, so it joins the poller
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return fmt.Errorf("watch %s: %w", id, err)
	}
	d.exits.add(id, f)
	stop := context.AfterFunc(ctx, func() { d.exits.remove(id, f) })
	go func() {
		defer stop()
		err := rc.Read(func(fd uintptr) bool { return pollIn(int(fd)) })
		if err != nil {
			// Closed by unwatch, or a kernel whose pidfds the poller cannot wait on.
			if d.exits.remove(id, f) {
				d.log.Warn("cannot watch the sandbox's init", "sandbox", id, "err", err)
			}
			return
		}
		// The context may have ended before its AfterFunc ran.
		if d.exits.remove(id, f) && ctx.Err() == nil {
			exited(id)
		}
	}()
	return nil
}

// unwatch ends the exit watch of id, if any: its init is about to be killed on purpose.
func (d *Driver) unwatch(id string) { d.exits.remove(id, nil) }

// add registers f as the watch of id, ending the one it replaces.
func (w *watches) add(id string, f *os.File) {
	w.mu.Lock()
	old := w.m[id]
	if w.m == nil {
		w.m = map[string]*os.File{}
	}
	w.m[id] = f
	w.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// remove ends the watch of id when it is f (or any watch when f is nil) and reports whether
// it did. Closing the pidfd wakes the goroutine waiting on it.
func (w *watches) remove(id string, f *os.File) bool {
	w.mu.Lock()
	cur, ok := w.m[id]
	if ok && (f == nil || cur == f) {
		delete(w.m, id)
	}
	w.mu.Unlock()
	if !ok || (f != nil && cur != f) {
		return false
	}
	cur.Close()
	return true
}

// pollIn reports whether fd is readable now.
func pollIn(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			return n > 0
		}
	}
}
