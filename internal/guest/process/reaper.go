package process

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Reaper collects exit statuses of the processes the guest starts. Start runs spawn (which
// forks and returns a pid) so that the child cannot be reaped before it is registered.
type Reaper interface {
	Start(spawn func() (int, error)) (pid int, exited <-chan unix.WaitStatus, err error)
}

// pid1Reaper is for a guest running as init: one goroutine reaps every child, ours and
// orphans alike (wait4(-1)), and routes ours to their waiters.
type pid1Reaper struct {
	mu      sync.Mutex // held across spawn+register and around dispatch
	waiters map[int]chan unix.WaitStatus
}

// NewPID1Reaper starts the init reaper. It runs for the life of the process.
func NewPID1Reaper() Reaper {
	r := &pid1Reaper{waiters: map[int]chan unix.WaitStatus{}}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGCHLD)
	go func() {
		tick := time.NewTicker(time.Second) // in case a SIGCHLD was coalesced away
		for {
			select {
			case <-sigs:
			case <-tick.C:
			}
			r.reapAll()
		}
	}()
	return r
}

func (r *pid1Reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		r.mu.Lock()
		if ch, ok := r.waiters[pid]; ok {
			ch <- ws
			delete(r.waiters, pid)
		}
		r.mu.Unlock()
	}
}

func (r *pid1Reaper) Start(spawn func() (int, error)) (int, <-chan unix.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := spawn()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan unix.WaitStatus, 1)
	r.waiters[pid] = ch
	return pid, ch, nil
}

// directReaper waits for each child by pid; it never reaps processes it did not start, so it
// is safe inside a larger program (tests, the fake driver).
type directReaper struct{}

// NewDirectReaper returns a reaper for guests that are not PID 1.
func NewDirectReaper() Reaper { return directReaper{} }

func (directReaper) Start(spawn func() (int, error)) (int, <-chan unix.WaitStatus, error) {
	pid, err := spawn()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan unix.WaitStatus, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		ch <- ws
	}()
	return pid, ch, nil
}
