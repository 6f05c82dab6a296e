package runc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// List implements sandbox.Driver: every sandbox directory with its recorded labels, plus
// any container under our runtime root that lost its directory (an orphan a reconciler
// should delete; it has no labels).
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
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	var out []sandbox.Instance
	for _, e := range entries {
		if !e.IsDir() || !idRE.MatchString(e.Name()) {
			continue
		}
		in := sandbox.Instance{ID: e.Name(), State: toState(status[e.Name()])}
		// A directory without a readable spec (a create cut short by a crash) is still
		// listed, without labels, so that a reconciler removes it.
		if spec, err := d.readInstance(e.Name()); err == nil {
			in.Labels = spec.Labels
		}
		out = append(out, in)
		delete(status, e.Name())
	}
	for id, s := range status {
		out = append(out, sandbox.Instance{ID: id, State: toState(s)})
	}
	return out, nil
}

// toState maps a runtime status; created-but-not-started counts as stopped.
func toState(status string) sandbox.State {
	switch status {
	case "running":
		return sandbox.StateRunning
	case "paused":
		return sandbox.StatePaused
	}
	return sandbox.StateStopped
}

// Pause implements sandbox.Pauser: it freezes every process of a running sandbox.
func (d *Driver) Pause(ctx context.Context, id string) error {
	if !idRE.MatchString(id) {
		return errdefs.NotFound("sandbox %q not found", id)
	}
	_, err := d.runtime(ctx, "pause", id)
	return d.notRunning(id, err)
}

// Resume implements sandbox.Pauser: it thaws a paused sandbox.
func (d *Driver) Resume(ctx context.Context, id string) error {
	if !idRE.MatchString(id) {
		return errdefs.NotFound("sandbox %q not found", id)
	}
	_, err := d.runtime(ctx, "resume", id)
	return d.notRunning(id, err)
}

// notRunning turns the runtime's "does not exist" into a failed precondition when the
// sandbox exists but is stopped (its container is removed on Stop).
func (d *Driver) notRunning(id string, err error) error {
	if !errdefs.IsNotFound(err) {
		return err
	}
	if _, serr := os.Stat(d.paths(id).instance()); serr == nil {
		return errdefs.FailedPrecondition("sandbox %s is not running", id)
	}
	return errdefs.NotFound("sandbox %s not found", id)
}

// Stats implements sandbox.Driver from `runc events --stats`, which reads cgroup v1 and v2
// alike; pids are the user cgroup's (see userPids), network counters the sandbox's interface's
// (netStats). A stopped sandbox is a failed
// precondition.
func (d *Driver) Stats(ctx context.Context, id string) (*sandbox.Stats, error) {
	if !idRE.MatchString(id) {
		return nil, errdefs.NotFound("sandbox %q not found", id)
	}
	out, err := d.runtime(ctx, "events", "--stats", id)
	if err != nil {
		return nil, d.notRunning(id, err)
	}
	st, err := parseStats(out)
	if err != nil {
		return nil, fmt.Errorf("stats of %s: %w", id, err)
	}
	d.userPids(id, st)
	st.Time = time.Now()
	st.DiskBytes = d.disks.used(d.paths(id))
	st.Net = d.netStats(id, d.paths(id))
	return st, nil
}

// unlimited is the smallest value runtimes report for "no memory limit" (v1 reports
// 0x7FFFFFFFFFFFF000, v2 "max" as the largest uint64).
const unlimited = 1 << 60

// parseStats reads one `runc events --stats` event.
func parseStats(b []byte) (*sandbox.Stats, error) {
	var ev struct {
		Type string `json:"type"`
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
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("parse runtime stats: %w", err)
	}
	if ev.Type != "" && ev.Type != "stats" {
		return nil, fmt.Errorf("parse runtime stats: event type %q", ev.Type)
	}
	m := ev.Data.Memory
	st := &sandbox.Stats{CPUUsageNs: ev.Data.CPU.Usage.Total, MemoryBytes: m.Usage.Usage,
		MemoryLimit: m.Usage.Limit, Pids: ev.Data.Pids.Current, PidsLimit: ev.Data.Pids.Limit}
	switch {
	case m.Raw["cache"] > 0: // cgroup v1 memory.stat
		st.MemoryCache = m.Raw["cache"]
	case m.Raw["file"] > 0: // cgroup v2 memory.stat
		st.MemoryCache = m.Raw["file"]
	default:
		st.MemoryCache = m.Cache
	}
	if st.MemoryLimit >= unlimited {
		st.MemoryLimit = 0
	}
	return st, nil
}
