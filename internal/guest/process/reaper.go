package process

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/guestproto"
)

// Reaper collects the exit statuses of the processes the guest starts. Implementations are
// safe for concurrent use.
type Reaper interface {
	// Start runs spawn, which forks a child and returns its pid, and returns a channel that
	// receives the child's exit status exactly once. A child that exits at once is not lost:
	// the status cannot be collected before the child is registered.
	Start(spawn func() (int, error)) (pid int, exited <-chan unix.WaitStatus, err error)
}

// reapTick is how often the PID-1 reaper looks for exits even without SIGCHLD, which the
// kernel coalesces and which a burst may overflow.
const reapTick = time.Second

// pid1Reaper is for a guest running as init: one goroutine reaps every child, ours and
// orphans alike (wait4(-1)), and routes ours to their waiters. Nothing in the process may
// use exec.Cmd.Wait next to it: it would race for the statuses.
type pid1Reaper struct {
	mu      sync.Mutex // held across spawn+register, and by dispatch after each wait4
	waiters map[int]chan unix.WaitStatus
}

// NewPID1Reaper starts the init reaper: one goroutine, for the life of the process, reaps
// every child on SIGCHLD (and every reapTick), dispatches the statuses of children started
// through Start and silently reaps orphans. Use it only when the guest is PID 1, and never
// next to exec.Cmd.Wait, which would lose the race for the statuses. When the driver passed
// the sandbox's user cgroups (guestproto.UserCgroupFDsEnv), children start in them.
func NewPID1Reaper() Reaper {
	return withUserCgroups(newPID1Reaper(), os.Getenv(guestproto.UserCgroupFDsEnv))
}

func newPID1Reaper() *pid1Reaper {
	r := &pid1Reaper{waiters: map[int]chan unix.WaitStatus{}}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGCHLD)
	go func() {
		tick := time.NewTicker(reapTick)
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

// reapAll collects every exited child without blocking; orphans are reaped and forgotten.
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
		r.dispatch(pid, ws)
	}
}

// dispatch hands a status to the waiter of pid. Taking mu here is what closes the race with
// Start: a child reaped while its parent is still registering it waits for the registration.
func (r *pid1Reaper) dispatch(pid int, ws unix.WaitStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.waiters[pid]; ok {
		ch <- ws // buffered, one status per pid
		delete(r.waiters, pid)
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

// directReaper waits for each child by pid; it never reaps a process it did not start, so it
// is safe inside a larger program (tests, the fake driver).
type directReaper struct{}

// NewDirectReaper returns a reaper for guests that are not PID 1. Each running child holds
// one goroutine blocked in wait4(pid).
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
