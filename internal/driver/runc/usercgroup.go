package runc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

// A sandbox's user processes live in a child cgroup of the sandbox's, "user", which holds
// the user's pids limit; the sandbox's own cgroup allows guestPidsHeadroom tasks more, for
// the guest's threads. A fork bomb then fills the user cgroup and never the pids the
// guest's Go runtime needs to start a thread. On cgroup v1 the child is also made in the
// cpu hierarchy, so that the guest's threads compete with all user processes together
// rather than with each: a CPU-bound bomb cannot starve the guest.
//
// The guest puts processes there itself: a spawning thread writes itself into the child
// through files the driver opens on the host and passes in (guestproto.UserCgroupFDsEnv), and
// forks every process from it (internal/guest/process, spawner.go). On cgroup v2, where
// cgroup membership is per process, the child is a threaded cgroup, which one thread may
// join alone. (CLONE_INTO_CGROUP would need clone3, which every seccomp profile answers
// with ENOSYS, the guest included.)
const (
	// guestPidsHeadroom is how many tasks the sandbox's cgroup allows beyond the user's
	// limit, for the guest. It idles with about six threads and may take one more for each
	// system call that blocks while other goroutines wait to run (Go keeps threads it
	// made); with a fork bomb at the limit and 300 concurrent uploads and execs it peaked
	// at 10. 256 leaves room for heavy blocking I/O and costs nothing unused: it is a cap,
	// not a reservation.
	guestPidsHeadroom = 256
	// userCgroupName is the child cgroup of user processes.
	userCgroupName = "user"
	// spawnerTasks is the guest's spawning thread, which lives in the user cgroups: their
	// limit is one higher than the user's, and the user's view leaves it out.
	spawnerTasks = 1
	// guestUserCgroupFD is the first fd of the user cgroup files in the container.
	guestUserCgroupFD = guestListenFD + 1
)

// userCgroups is how this host gives sandboxes user cgroups: cgroup v1 hierarchies (pids,
// then cpu when it is mounted) or the cgroup v2 mount.
type userCgroups struct {
	v1 []cgroupMount
	v2 *cgroupMount
}

// detectUserCgroups finds the hierarchies for user cgroups. It returns nil, and why, when
// there is no pids controller or its hierarchy is not writable (rootless).
func detectUserCgroups() (*userCgroups, string) {
	mounts := cgroupMounts()
	find := func(controller string) *cgroupMount {
		for i, m := range mounts {
			if !m.v2 && m.has(controller) && unix.Access(m.point, unix.W_OK) == nil {
				return &mounts[i]
			}
		}
		return nil
	}
	if pids := find("pids"); pids != nil {
		uc := &userCgroups{v1: []cgroupMount{*pids}}
		if cpu := find("cpu"); cpu != nil && cpu.point != pids.point {
			uc.v1 = append(uc.v1, *cpu)
		}
		return uc, ""
	}
	for i, m := range mounts {
		if m.v2 && slices.Contains(controllers(m.point), "pids") {
			if unix.Access(m.point, unix.W_OK) != nil {
				return nil, "the cgroup v2 hierarchy is not writable"
			}
			return &userCgroups{v2: &mounts[i]}, ""
		}
	}
	return nil, "no writable pids controller"
}

// controllers lists the controllers available in a cgroup v2 directory.
func controllers(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// userCgroup is one sandbox's user cgroup while Start sets it up; nil means the sandbox has
// none and runs as it did before user cgroups (every process shares one pids limit).
type userCgroup struct {
	dirs  []string   // the child in each hierarchy (one on v2)
	files []*os.File // what the guest's spawning thread writes itself into
	v2    bool
}

// openUserCgroup makes the user cgroup of a sandbox about to start, before the runtime
// creates the sandbox's own (runc accepts an existing directory), and opens the files the
// guest joins it through. It returns nil when the host has no user cgroups or they cannot
// be made; what it made is removed with the sandbox's cgroup.
func (d *Driver) openUserCgroup(id string, r sandbox.Resources) *userCgroup {
	if d.ucg == nil {
		return nil
	}
	uc, err := d.makeUserCgroup(id, r)
	if err != nil {
		uc.close()
		d.log.Warn("cannot make the sandbox's user cgroup: its processes share the guest's pids limit", "sandbox", id, "err", err)
		return nil
	}
	return uc
}

func (d *Driver) makeUserCgroup(id string, r sandbox.Resources) (*userCgroup, error) {
	uc := &userCgroup{v2: d.ucg.v2 != nil}
	if uc.v2 {
		// Made threaded and limited by finishUserCgroup once the runtime has placed the guest
		// in the parent: runc refuses to enter a "domain threaded" cgroup.
		dir := filepath.Join(d.ucg.v2.point, d.cgroupPath(id), userCgroupName)
		uc.dirs = append(uc.dirs, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return uc, err
		}
		f, err := os.OpenFile(filepath.Join(dir, "cgroup.threads"), os.O_WRONLY, 0)
		if err != nil {
			return uc, err
		}
		uc.files = append(uc.files, f)
		return uc, nil
	}
	for _, m := range d.ucg.v1 {
		dir := filepath.Join(m.point, d.cgroupPath(id), userCgroupName)
		uc.dirs = append(uc.dirs, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return uc, err
		}
		if m.has("pids") {
			if err := writeCgroup(dir, "pids.max", userPidsMax(r)); err != nil {
				return uc, err
			}
		}
		f, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_WRONLY, 0)
		if err != nil {
			return uc, err
		}
		uc.files = append(uc.files, f)
	}
	return uc, nil
}

// finishUserCgroup completes a cgroup v2 user cgroup once the guest runs in its parent:
// threaded, so that one thread of the guest can join it, with pids (and cpu) enabled and
// the user's limit. A failure leaves the guest unable to join (it then starts processes in
// its own cgroup, as without user cgroups) and is logged.
//
// Untested on a cgroup v2 host: the machine this was written on runs cgroup v1.
func (d *Driver) finishUserCgroup(id string, uc *userCgroup, r sandbox.Resources) {
	if uc == nil || !uc.v2 {
		return
	}
	parent := filepath.Dir(uc.dirs[0])
	err := writeCgroup(uc.dirs[0], "cgroup.type", "threaded")
	if err == nil {
		err = writeCgroup(parent, "cgroup.subtree_control", "+pids")
	}
	if err == nil && slices.Contains(controllers(parent), "cpu") {
		// Best effort: without it the guest still keeps its pids.
		if cerr := writeCgroup(parent, "cgroup.subtree_control", "+cpu"); cerr != nil {
			d.log.Debug("user cgroup without cpu", "sandbox", id, "err", cerr)
		}
	}
	if err == nil {
		err = writeCgroup(uc.dirs[0], "pids.max", userPidsMax(r))
	}
	if err != nil {
		d.log.Warn("cannot finish the sandbox's user cgroup: its processes share the guest's pids limit", "sandbox", id, "err", err)
	}
}

// userPidsMax is the user cgroup's pids.max: the user's limit and the spawning thread.
func userPidsMax(r sandbox.Resources) string {
	if r.Pids <= 0 {
		return "max"
	}
	return strconv.FormatInt(r.Pids+spawnerTasks, 10)
}

// files are the fds to pass to the container after the guest's listener.
func (uc *userCgroup) fds() []*os.File {
	if uc == nil {
		return nil
	}
	return uc.files
}

// close closes the host's copies of the passed files.
func (uc *userCgroup) close() {
	if uc == nil {
		return
	}
	for _, f := range uc.files {
		f.Close()
	}
}

// apply tells the guest where its user cgroup files are and raises the sandbox's pids
// limit by the guest's headroom; the user's own limit is the user cgroup's.
func (uc *userCgroup) apply(s *specs.Spec) {
	if uc == nil || len(uc.files) == 0 {
		return
	}
	fds := make([]string, len(uc.files))
	for i := range uc.files {
		fds[i] = strconv.Itoa(guestUserCgroupFD + i)
	}
	s.Process.Env = append(s.Process.Env, guestproto.UserCgroupFDsEnv+"="+strings.Join(fds, ","))
	if p := s.Linux.Resources.Pids; p != nil && p.Limit != nil && *p.Limit > 0 {
		limit := *p.Limit + guestPidsHeadroom
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
	}
}

// userPids replaces the sandbox's pids reading with the user's: the tasks of the user
// cgroup and its limit, without the guest's threads and headroom. A sandbox started
// without a user cgroup keeps the runtime's reading.
func (d *Driver) userPids(id string, st *sandbox.Stats) {
	if d.ucg == nil {
		return
	}
	mnt := d.ucg.v2
	if mnt == nil {
		mnt = &d.ucg.v1[0] // the pids hierarchy
	}
	dir := filepath.Join(mnt.point, d.cgroupPath(id), userCgroupName)
	if _, err := os.Stat(dir); err != nil {
		return
	}
	switch max, err := readCgroup(dir, "pids.max"); {
	case err == nil && max == "max":
		st.PidsLimit = 0
	case err == nil:
		if n, perr := strconv.ParseUint(max, 10, 64); perr == nil {
			st.PidsLimit = n - min(n, spawnerTasks)
		}
	case st.PidsLimit > guestPidsHeadroom: // made, but never limited (v2): the spec's limit
		st.PidsLimit -= guestPidsHeadroom
	}
	if cur, err := readCgroup(dir, "pids.current"); err == nil {
		if n, perr := strconv.ParseUint(cur, 10, 64); perr == nil {
			st.Pids = n - min(n, spawnerTasks)
		}
	}
}

// writeCgroup writes one value to a cgroup file.
func writeCgroup(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	return errors.Join(err, f.Close())
}

// readCgroup reads one value of a cgroup file.
func readCgroup(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}
