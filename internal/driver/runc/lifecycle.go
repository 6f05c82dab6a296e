package runc

import (
	"context"
	"encoding/json"
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

// Start implements sandbox.Driver: mount the root filesystem, create the guest's socket and
// run the container detached with the socket as fd 3.
func (d *Driver) Start(ctx context.Context, id string) (err error) {
	spec, err := d.readInstance(id)
	if err != nil {
		return err
	}
	p := d.paths(id)
	if err := d.writeConfig(spec, p); err != nil {
		return err
	}
	if err := mountOverlay(spec.Image.Layers, p); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, _ = d.runtime(cctx, "delete", "--force", id)
			_ = unmount(p.rootfs())
			_ = os.Remove(p.socket())
		}
	}()
	ln, err := listen(p.socket())
	if err != nil {
		return err
	}
	defer ln.Close()
	err = d.runContainer(ctx, id, p, ln)
	if err != nil && strings.Contains(err.Error(), "already exists") {
		// A container of the same ID survived a crash: if it still runs, that is a caller
		// error; if it is dead, clear it and try once more.
		if st, serr := d.state(ctx, id); serr == nil && st.Status != "stopped" {
			return errdefs.FailedPrecondition("sandbox %s is already %s", id, st.Status)
		}
		if _, derr := d.runtime(ctx, "delete", "--force", id); derr == nil {
			err = d.runContainer(ctx, id, p, ln)
		}
	}
	return err
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
		return nil, fmt.Errorf("create guest socket: %w", err)
	}
	return f, nil
}

func (d *Driver) runContainer(ctx context.Context, id string, p paths, ln *os.File) error {
	logf, err := os.OpenFile(p.log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, d.bin, "--root", d.cfg.RuntimeRoot,
		"--log", p.runtimeLog(), "--log-format", "json",
		"run", "--detach", "--preserve-fds", "1", "--pid-file", p.pidFile(), "--bundle", p.bundle(), id)
	// The container keeps these: they must be real files, never pipes we would wait on.
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{ln}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := tail(p.runtimeLog())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("start %s: %s", id, msg)
	}
	return nil
}

// Stop implements sandbox.Driver: SIGTERM, SIGKILL after grace, then remove the container
// and unmount, keeping the writable layer.
func (d *Driver) Stop(ctx context.Context, id string, grace time.Duration) error {
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
			d.terminate(ctx, id, grace)
		}
	}
	d.kill(ctx, id, p)
	// delete --force also thaws and kills, but sleeps 100 ms when it has to; by now the
	// container is normally dead and it returns at once.
	if _, err := d.runtime(ctx, "delete", "--force", id); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	if err := d.removeCgroups(id); err != nil {
		return fmt.Errorf("remove cgroup of %s: %w", id, err)
	}
	_ = os.Remove(p.pidFile())
	if err := unmount(p.rootfs()); err != nil {
		return err
	}
	_ = os.Remove(p.socket())
	return nil
}

// kill sends SIGKILL to the container and waits (briefly) until its init is gone.
func (d *Driver) kill(ctx context.Context, id string, p paths) {
	pid := readPid(p.pidFile())
	if _, err := d.runtime(ctx, "kill", id, "KILL"); err != nil || pid <= 0 {
		return
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		if !alive(pid) {
			return
		}
		time.Sleep(time.Millisecond)
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

// terminate asks the container to stop and kills it if it has not after grace.
func (d *Driver) terminate(ctx context.Context, id string, grace time.Duration) {
	if _, err := d.runtime(ctx, "kill", id, "TERM"); err == nil {
		deadline := time.Now().Add(grace)
		for time.Now().Before(deadline) {
			st, err := d.state(ctx, id)
			if err != nil || st.Status == "stopped" {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Delete implements sandbox.Driver.
func (d *Driver) Delete(ctx context.Context, id string) error {
	if !idRE.MatchString(id) {
		return nil
	}
	p := d.paths(id)
	if err := d.Stop(ctx, id, 0); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	if mounts, err := mountsUnder(p.dir); err != nil {
		return err
	} else if len(mounts) > 0 {
		return fmt.Errorf("delete %s: still mounted: %s", id, strings.Join(mounts, ", "))
	}
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// List implements sandbox.Driver: every sandbox directory plus any container under our
// runtime root that lost its directory (an orphan to delete).
func (d *Driver) List(ctx context.Context) ([]sandbox.Instance, error) {
	sts, err := d.list(ctx)
	if err != nil {
		return nil, err
	}
	status := make(map[string]string, len(sts))
	for _, s := range sts {
		status[s.ID] = s.Status
	}
	entries, err := os.ReadDir(d.cfg.StateDir)
	if err != nil {
		return nil, err
	}
	var out []sandbox.Instance
	for _, e := range entries {
		if !e.IsDir() || !idRE.MatchString(e.Name()) {
			continue
		}
		in := sandbox.Instance{ID: e.Name(), State: toState(status[e.Name()])}
		if spec, err := d.readInstance(e.Name()); err == nil {
			in.Labels = spec.Labels
		}
		delete(status, e.Name())
		out = append(out, in)
	}
	for id, s := range status {
		out = append(out, sandbox.Instance{ID: id, State: toState(s)})
	}
	return out, nil
}

func toState(status string) sandbox.State {
	switch status {
	case "running":
		return sandbox.StateRunning
	case "paused":
		return sandbox.StatePaused
	}
	return sandbox.StateStopped
}

// Pause implements sandbox.Pauser.
func (d *Driver) Pause(ctx context.Context, id string) error {
	_, err := d.runtime(ctx, "pause", id)
	return err
}

// Resume implements sandbox.Pauser.
func (d *Driver) Resume(ctx context.Context, id string) error {
	_, err := d.runtime(ctx, "resume", id)
	return err
}

// Stats implements sandbox.Driver from `runc events --stats`, which reads cgroup v1 and v2
// alike.
func (d *Driver) Stats(ctx context.Context, id string) (*sandbox.Stats, error) {
	out, err := d.runtime(ctx, "events", "--stats", id)
	if err != nil {
		return nil, err
	}
	var ev struct {
		Data struct {
			CPU struct {
				Usage struct {
					Total uint64 `json:"total"`
				} `json:"usage"`
			} `json:"cpu"`
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
					Limit uint64 `json:"limit"`
				} `json:"usage"`
				Cache uint64            `json:"cache"`
				Raw   map[string]uint64 `json:"raw"`
			} `json:"memory"`
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		return nil, fmt.Errorf("parse stats of %s: %w", id, err)
	}
	m := ev.Data.Memory
	st := &sandbox.Stats{Time: time.Now(), CPUUsageNs: ev.Data.CPU.Usage.Total,
		MemoryBytes: m.Usage.Usage, MemoryCache: m.Cache, MemoryLimit: m.Usage.Limit,
		Pids: ev.Data.Pids.Current, PidsLimit: ev.Data.Pids.Limit}
	if st.MemoryCache == 0 {
		st.MemoryCache = m.Raw["file"] // cgroup v2 name
	}
	if st.MemoryLimit > 1<<60 {
		st.MemoryLimit = 0 // "unlimited"
	}
	return st, nil
}
