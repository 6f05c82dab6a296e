package runc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRemoveWait bounds how long removeCgroups waits for a busy cgroup to empty.
const cgroupRemoveWait = time.Second

// removeCgroups removes what is left of a sandbox's cgroup after the runtime deleted the
// container, child cgroups (the user cgroups of usercgroup.go) before their parent. runc
// gives up when the cgroup is still busy (a pid namespace full of processes takes a moment
// to die), which would leak a directory per sandbox. The cgroup mounts are read from
// mountinfo, so this works on cgroup v1 and v2 alike; only rmdir is used here.
func (d *Driver) removeCgroups(id string) error {
	rel := d.cgroupPath(id)
	deadline := time.Now().Add(cgroupRemoveWait)
	var errs []error
	for _, m := range cgroupMounts() {
		dir := filepath.Join(m.point, rel)
		if !strings.HasPrefix(dir, m.point+"/") {
			continue
		}
		if err := removeCgroupTree(dir, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return fmt.Errorf("%w (and %d more hierarchies)", errs[0], len(errs)-1)
}

// removeCgroupTree removes the cgroup dir after its children, deepest first (a cgroup with
// children cannot be removed), retrying a busy one until deadline.
func removeCgroupTree(dir string, deadline time.Time) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name()), deadline); err != nil {
				return err
			}
		}
	}
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", dir, err)
		}
		// Busy: processes the runtime no longer knows of (a start cut short, a process that
		// escaped delete --force) are still in it. The cgroup is the unit's alone, so they
		// are the unit's: end them, or they would outlive it with nobody to reap them.
		killProcs(dir)
		time.Sleep(10 * time.Millisecond)
	}
}

// killProcs sends SIGKILL to every process listed in the cgroup dir's cgroup.procs (the
// same file on cgroup v1 and v2).
func killProcs(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// cgroupMount is a mounted cgroup (v1) or cgroup2 hierarchy.
type cgroupMount struct {
	point string
	v2    bool
	opts  []string // super options: a v1 hierarchy's controllers are among them
}

// has reports whether a v1 hierarchy carries the controller.
func (m cgroupMount) has(controller string) bool { return slices.Contains(m.opts, controller) }

// cgroupMounts returns the cgroup (v1) and cgroup2 filesystems mounted on this host.
func cgroupMounts() []cgroupMount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []cgroupMount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root point options [optional...] - fstype source super
		fields := strings.Fields(sc.Text())
		for i := 6; i+3 < len(fields); i++ {
			if fields[i] != "-" {
				continue
			}
			if fs := fields[i+1]; fs == "cgroup" || fs == "cgroup2" {
				out = append(out, cgroupMount{point: unescapeMount(fields[4]), v2: fs == "cgroup2",
					opts: strings.Split(fields[i+3], ",")})
			}
			break
		}
	}
	return out
}
