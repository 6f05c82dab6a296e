package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// spawner forks every user process from one OS thread that has joined the sandbox's user
// cgroups, so that each child starts there and so does everything it forks. The guest's
// other threads stay in the sandbox's own cgroup, whose pids limit keeps headroom for them:
// a fork bomb fills the user cgroups and no longer the pids the guest's runtime needs.
//
// A thread can join a cgroup on its own (cgroup v1 "tasks", v2 "cgroup.threads" of a
// threaded cgroup: writing "0" moves the writer), and a fork runs on the calling thread
// (syscall.ForkExec clones it), so the child inherits the thread's cgroups. The Go runtime
// never clones new threads from a locked thread (it asks its template thread), so the
// guest's own threads never land in the user cgroups either.
type spawner struct {
	files  []*os.File    // the cgroup files the thread writes itself into
	jobs   chan spawnJob // served by the spawning thread until close
	log    atomic.Pointer[slog.Logger]
	moved  bool // the thread is in every user cgroup (owned by the thread)
	warned bool // a failure to move was logged (owned by the thread)
}

type spawnJob struct {
	spawn func() (int, error)
	done  chan<- spawnResult
}

type spawnResult struct {
	pid int
	err error
}

// openSpawner starts a spawner over the inherited fds listed in fds ("4,5").
func openSpawner(fds string) (*spawner, error) {
	var files []*os.File
	for _, s := range strings.Split(fds, ",") {
		fd, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || fd < 3 {
			return nil, fmt.Errorf("user cgroup fd %q is not a file descriptor", s)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return nil, fmt.Errorf("user cgroup fd %d is not an open cgroup file: %v", fd, err)
		}
		unix.CloseOnExec(fd) // no user process may inherit it
		files = append(files, os.NewFile(uintptr(fd), "user-cgroup"))
	}
	return newSpawner(files), nil
}

// newSpawner starts the spawning goroutine; it joins the cgroups behind files at its first
// job.
func newSpawner(files []*os.File) *spawner {
	s := &spawner{files: files, jobs: make(chan spawnJob)}
	ready := make(chan struct{})
	go s.serve(ready)
	<-ready
	return s
}

// serve locks the goroutine to its thread for good and runs jobs on it. The main thread
// (whose tid is the pid) is given back: it would show the user cgroups as the guest's own
// in /proc/<pid>/cgroup. Holding it while a fresh goroutine starts guarantees that one
// gets another thread.
func (s *spawner) serve(ready chan<- struct{}) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		next := make(chan struct{})
		go s.serve(next)
		<-next
		runtime.UnlockOSThread()
		close(ready)
		return
	}
	close(ready)
	for job := range s.jobs {
		s.join()
		pid, err := job.spawn()
		job.done <- spawnResult{pid, err}
	}
	// Returning while locked ends the thread, and with it its membership of the cgroups.
}

// join moves the spawning thread into every user cgroup, once. A failure leaves children
// in the sandbox's cgroup, as without a spawner; it is logged once and tried again at the
// next spawn (on cgroup v2 the host finishes the threaded cgroup after the guest started).
func (s *spawner) join() {
	if s.moved {
		return
	}
	var errs []error
	for _, f := range s.files {
		if _, err := f.WriteString("0"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		if !s.warned {
			s.warned = true
			if log := s.log.Load(); log != nil {
				log.Warn("cannot join the user cgroups: processes share the guest's pids limit", "err", err)
			}
		}
		return
	}
	s.moved = true
}

// run forks on the spawning thread: spawn must fork from the thread it is called on, as
// syscall.ForkExec does.
func (s *spawner) run(spawn func() (int, error)) (int, error) {
	done := make(chan spawnResult, 1)
	s.jobs <- spawnJob{spawn: spawn, done: done}
	r := <-done
	return r.pid, r.err
}

// close ends the spawning thread, which leaves the cgroups with it. Not safe concurrently
// with run.
func (s *spawner) close() { close(s.jobs) }

// placingReaper is a Reaper whose children start in the sandbox's user cgroups.
type placingReaper struct {
	Reaper
	sp  *spawner // nil when the inherited fds were unusable (err)
	err error
}

// withUserCgroups wraps r so that its children start in the user cgroups named by fds
// (guestproto.UserCgroupFDsEnv); without fds it returns r. Unusable fds leave r as it is and
// are reported through the Service's logger (see New).
func withUserCgroups(r Reaper, fds string) Reaper {
	if fds == "" {
		return r
	}
	sp, err := openSpawner(fds)
	return &placingReaper{Reaper: r, sp: sp, err: err}
}

func (r *placingReaper) Start(spawn func() (int, error)) (int, <-chan unix.WaitStatus, error) {
	if r.sp == nil {
		return r.Reaper.Start(spawn)
	}
	return r.Reaper.Start(func() (int, error) { return r.sp.run(spawn) })
}

// setLogger gives the reaper the guest's logger and reports an unusable setup once.
func (r *placingReaper) setLogger(log *slog.Logger) {
	if r.sp != nil {
		r.sp.log.Store(log)
		return
	}
	log.Warn("user cgroups unusable: processes share the guest's pids limit", "err", r.err)
}
