package runc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// cleanupTimeout bounds the undo of a failed start, which runs even when ctx is cancelled.
const cleanupTimeout = 30 * time.Second

// Start implements sandbox.Driver: mount the root filesystem, create the guest's socket and
// run the container detached with the socket as fd 3. A running or paused sandbox is a
// failed precondition and is left untouched.
func (d *Driver) Start(ctx context.Context, id string) (err error) {
	spec, err := d.readInstance(id)
	if err != nil {
		return err
	}
	p := d.paths(id)
	if err := d.clearLeftovers(ctx, id, p); err != nil {
		return err
	}
	live := false // a container of this ID turned out to run: it is not ours to undo
	defer func() {
		if err != nil {
			d.undoStart(ctx, id, p, live)
		}
	}()
	upper, work := p.writable(spec)
	if diskLimited(spec) {
		if err := d.disks.mount(ctx, p, upper, work); err != nil {
			return fmt.Errorf("start %s: %w", id, err)
		}
	}
	if err := mountOverlay(spec.Image.Layers, p, upper, work); err != nil {
		return err
	}
	if err := d.stageMounts(ctx, spec, p); err != nil {
		return err
	}
	uc := d.openUserCgroup(id, spec.Resources)
	defer uc.close() // the container has its own copies
	if err := d.writeConfig(spec, p, uc); err != nil {
		return err
	}
	if spec.Network == sandbox.NetworkEgress {
		if err := d.attachNetwork(spec, p); err != nil {
			return err
		}
	}
	ln, err := listen(p.socket())
	if err != nil {
		return err
	}
	defer ln.Close() // the container has its own copy
	fds := append([]*os.File{ln}, uc.fds()...)
	err = d.runContainer(ctx, id, p, fds)
	if err != nil && strings.Contains(err.Error(), "already exists") {
		// clearLeftovers saw no container, so one appeared since: a concurrent Start,
		// which callers must not do. Clear a dead one and try once more; never kill a live
		// one (though its socket was replaced by now).
		if st, serr := d.state(ctx, id); serr == nil && st.Status != "stopped" {
			live = true
			return errdefs.FailedPrecondition("sandbox %s is already %s", id, st.Status)
		}
		if _, derr := d.runtime(ctx, "delete", "--force", id); derr == nil {
			err = d.runContainer(ctx, id, p, fds)
		}
	}
	if err == nil {
		d.finishUserCgroup(id, uc, spec.Resources)
	}
	return err
}

// clearLeftovers makes sure no container of id runs, and removes a dead one. A cleanly
// stopped or new sandbox has neither a mounted root nor a socket, which costs no runtime
// call; either of them means a container ran here (a crash, a reboot, or a caller starting
// a running sandbox).
func (d *Driver) clearLeftovers(ctx context.Context, id string, p paths) error {
	_, serr := os.Lstat(p.socket())
	if !isMountPoint(p.rootfs()) && errors.Is(serr, os.ErrNotExist) {
		return nil
	}
	st, err := d.state(ctx, id)
	switch {
	case errdefs.IsNotFound(err):
		return nil // mountOverlay replaces a stale mount, listen a stale socket
	case err != nil:
		return fmt.Errorf("start %s: %w", id, err)
	case st.Status == "running" || st.Status == "paused":
		return errdefs.FailedPrecondition("sandbox %s is already %s", id, st.Status)
	}
	// Stopped, or created and never started: remove it so that run can reuse the ID.
	if _, err := d.runtime(ctx, "delete", "--force", id); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// undoStart removes what a failed Start set up, except a container that runs.
func (d *Driver) undoStart(ctx context.Context, id string, p paths, live bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	log := d.log.With("sandbox", id, "op", "start-undo")
	if live {
		// Our fresh overlay is stacked on the live container's root: take only ours off.
		if err := unmountTop(p.rootfs()); err != nil {
			log.Warn("unmount", "err", err)
		}
		return
	}
	if _, err := d.runtime(ctx, "delete", "--force", id); err != nil && !errdefs.IsNotFound(err) {
		log.Warn("delete container", "err", err)
	}
	if err := d.detachNetwork(id, p); err != nil {
		log.Warn("remove network", "err", err)
	}
	if err := d.removeCgroups(id); err != nil {
		log.Warn("remove cgroup", "err", err)
	}
	if err := unmount(p.rootfs()); err != nil {
		log.Warn("unmount", "err", err)
	}
	if err := unstageMounts(p); err != nil {
		log.Warn("unmount volumes", "err", err)
	}
	if err := d.disks.unmount(p, false); err != nil {
		log.Warn("unmount disk", "err", err)
	}
	_ = os.Remove(p.socket())
	_ = os.Remove(p.pidFile())
}

// listen creates the guest's listening socket and returns it as a file to pass on.
func listen(path string) (*os.File, error) {
	_ = os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("create guest socket: %w", err)
	}
	// The guest owns the socket from now on; closing our copy must not unlink it.
	l.SetUnlinkOnClose(false)
	f, err := l.File()
	l.Close()
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("create guest socket: %w", err)
	}
	return f, nil
}

// runContainer runs `runtime run --detach` with fds as the container's fds from 3 on (the
// guest's listener first) and guest.log as its stdout and stderr.
func (d *Driver) runContainer(ctx context.Context, id string, p paths, fds []*os.File) error {
	logf, err := os.OpenFile(p.log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	defer logf.Close()
	_ = os.Truncate(p.runtimeLog(), 0) // so that a failure reports this run's error
	// The runtime is never killed halfway for ctx: a `run` cut short can leave the guest
	// running without the state that `delete` needs to find it. It finishes (bounded), and a
	// cancelled ctx then fails the start, whose undo deletes the complete container.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, d.bin, "--root", d.cfg.RuntimeRoot,
		"--log", p.runtimeLog(), "--log-format", "json",
		"run", "--detach", "--preserve-fds", strconv.Itoa(len(fds)), "--pid-file", p.pidFile(), "--bundle", p.bundle(), id)
	// The container keeps these: they must be real files, never pipes we would wait on.
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = fds
	cmd.WaitDelay = runtimeWaitDelay
	if err := cmd.Run(); err != nil {
		msg := tail(p.runtimeLog())
		if msg == "" {
			msg = err.Error()
		}
		// Not classed: runtime messages such as "executable file not found" are no proof
		// that the sandbox is unknown.
		return fmt.Errorf("start %s: %s", id, oneLine(msg))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}

// runTimeout bounds one `runtime run --detach`, which normally takes tens of milliseconds.
const runTimeout = time.Minute
