package runc

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
)

// killWait bounds how long Stop waits for the guest to die after SIGKILL.
const killWait = 2 * time.Second

// Stop implements sandbox.Driver: SIGTERM to the init, SIGKILL after grace, then remove the
// container and unmount, keeping the writable layer. Stopping a stopped sandbox is nil. The
// init's exit watch ends first: this exit is asked for.
func (d *Driver) Stop(ctx context.Context, id string, grace time.Duration) error {
	return d.stop(ctx, id, grace, false)
}

// stop is Stop; with discard (for Delete) the writable layer's contents need not be written
// back.
func (d *Driver) stop(ctx context.Context, id string, grace time.Duration, discard bool) error {
	if !idRE.MatchString(id) {
		return errdefs.NotFound("sandbox %q not found", id)
	}
	d.unwatch(id)
	p := d.paths(id)
	if _, err := os.Stat(p.dir); os.IsNotExist(err) {
		// No directory: only an orphaned container (if any) is left to remove.
		if _, serr := d.state(ctx, id); errdefs.IsNotFound(serr) {
			return errdefs.NotFound("sandbox %s not found", id)
		}
	}
	if grace > 0 {
		if st, err := d.state(ctx, id); err == nil && st.Status != "stopped" {
			if st.Status == "paused" {
				_, _ = d.runtime(ctx, "resume", id)
			}
			d.terminate(ctx, id, p, grace)
		}
	}
	d.kill(ctx, id, p)
	// delete --force also thaws and kills, but sleeps 100 ms when it has to; by now the
	// container is normally dead and it returns at once.
	if _, err := d.runtime(ctx, "delete", "--force", id); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if err := d.detachNetwork(id, p); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if err := d.removeCgroups(id); err != nil {
		return fmt.Errorf("stop %s: remove cgroup: %w", id, err)
	}
	_ = os.Remove(p.pidFile())
	if err := unmount(p.rootfs()); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if err := unstageMounts(p); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if err := d.disks.unmount(p, discard); err != nil {
		return fmt.Errorf("stop %s: disk: %w", id, err)
	}
	_ = os.Remove(p.socket())
	return nil
}

// terminate sends the container's init SIGTERM and returns once it has exited, or after
// grace. The init's pidfd tells when it exits, once it is proven ours (as in killInit);
// otherwise the runtime is asked to signal it and polled. Paddock's guest ignores SIGTERM:
// graceful stops end its processes through the guest instead, and pass no grace.
func (d *Driver) terminate(ctx context.Context, id string, p paths, grace time.Duration) {
	if dl, ok := ctx.Deadline(); ok {
		grace = min(grace, time.Until(dl))
	}
	if pid := readPid(p.pidFile()); pid > 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			defer unix.Close(fd)
			if d.inCgroup(pid, id) && unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0) == nil {
				exited(fd, grace)
				return
			}
		}
	}
	if _, err := d.runtime(ctx, "kill", id, "TERM"); err != nil {
		return
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		st, err := d.state(ctx, id)
		if err != nil || st.Status == "stopped" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL to the container's init and waits (briefly) until it is gone; the
// kernel then kills the rest of its pid namespace. The init recorded in the pid file is
// signalled directly when it provably is this sandbox's (killInit): that saves one of the
// three runtime invocations a sandbox costs (run, kill, delete). Otherwise the runtime is
// asked, and when it has lost the container (its state was removed behind our back) the
// recorded init is killed directly if it still is in this sandbox's cgroup.
func (d *Driver) kill(ctx context.Context, id string, p paths) {
	pid := readPid(p.pidFile())
	if pid > 0 && d.killInit(ctx, pid, id) {
		return
	}
	_, err := d.runtime(ctx, "kill", id, "KILL")
	switch {
	case pid <= 0:
		return
	case errdefs.IsNotFound(err):
		if !d.inCgroup(pid, id) {
			return
		}
		d.log.Warn("runtime lost the container: killing its init directly", "sandbox", id, "pid", pid)
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			return
		}
	case err != nil:
		return
	}
	for deadline := time.Now().Add(killWait); time.Now().Before(deadline) && ctx.Err() == nil; {
		if !alive(pid) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// killInit sends SIGKILL to pid through a pidfd once it has checked that pid is in the
// sandbox's cgroup, and waits up to killWait for it to exit. The pidfd pins the process: if
// pid was reused after the check, the signal goes to the exited process and is lost, never to
// the newcomer. It reports false when it could not signal (no pidfd support, not ours,
// already gone), leaving the caller to ask the runtime.
func (d *Driver) killInit(ctx context.Context, pid int, id string) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if !d.inCgroup(pid, id) || unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) != nil {
		return false
	}
	// A pidfd becomes readable when its process exits. A frozen (paused) init does not die
	// until it is thawed, so a slow death is checked for that once; thawed, it dies of the
	// pending SIGKILL at once.
	if exited(fd, pausedCheckAfter) {
		return true
	}
	if st, err := d.state(ctx, id); err == nil && st.Status == "paused" {
		_, _ = d.runtime(ctx, "resume", id)
	}
	wait := killWait - pausedCheckAfter
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	exited(fd, wait)
	return true
}

// pausedCheckAfter is how long a killed init may take to die before the driver checks
// whether it is frozen.
const pausedCheckAfter = 25 * time.Millisecond

// exited waits up to limit for the process behind pidfd to exit.
func exited(pidfd int, limit time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for deadline := time.Now().Add(limit); ; {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if n > 0 || (err != nil && err != unix.EINTR) {
			return n > 0
		}
	}
}

// readPid reads the container init's host pid written by --pid-file (0 if unknown).
func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// alive reports whether pid still runs (a zombie counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

// inCgroup reports whether pid is a member of the sandbox's cgroup, which proves that a
// recorded pid was not reused by an unrelated process. /proc/<pid>/cgroup has the same
// "id:controllers:path" lines on cgroup v1 and v2.
func (d *Driver) inCgroup(pid int, id string) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	defer f.Close()
	want := d.cgroupPath(id)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 && (parts[2] == want || strings.HasSuffix(parts[2], want)) {
			return true
		}
	}
	return false
}

// Delete implements sandbox.Driver: stop, check that nothing is mounted under the
// sandbox's directory, and remove it. Unknown IDs are nil.
func (d *Driver) Delete(ctx context.Context, id string) error {
	if !idRE.MatchString(id) {
		return nil
	}
	p := d.paths(id)
	if err := d.stop(ctx, id, 0, true); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	mounts, err := mountsUnder(p.dir)
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	if len(mounts) > 0 {
		// Removing now would descend into a mount; the writable layer is safe behind it.
		return fmt.Errorf("delete %s: still mounted: %s", id, strings.Join(mounts, ", "))
	}
	// RemoveAll never follows symlinks, which matters: upper/ is the sandbox's to fill.
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}
