package runc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/sandbox"
)

// guestListenFD is the fd the guest's listening socket has in the container: the first
// after stdio, passed with --preserve-fds 1.
const guestListenFD = 3

// Docker's masked and read-only /proc and /sys paths, plus /sys/fs/cgroup: on a cgroup v1
// host the runtime mounts a writable tmpfs there to hold the (read-only) hierarchies, in
// which root could create files; read-only, it looks as it does on v2.
var (
	maskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
		"/sys/fs/cgroup"}
)

// process is the guest as PID 1: the profile's identity and capabilities, no new privileges.
// There is deliberately no negative OOMScoreAdj nor raised rlimit: the guest makes its
// children preferred OOM victims by raising their score, which needs no privilege, and the
// spec stays valid for rootless runtimes.
func process(sec sandbox.Security) *specs.Process {
	return &specs.Process{
		User: specs.User{UID: sec.UID, GID: sec.GID},
		Args: []string{guestBinaryPath, "guest"},
		Env: []string{
			fmt.Sprintf("%s=%d", guestenv.ListenFDEnv, guestListenFD),
			fmt.Sprintf("%s=%d", guestenv.DefaultUIDEnv, sec.UID),
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		},
		Cwd:             "/",
		NoNewPrivileges: true,
		Capabilities:    capabilities(sec.Capabilities),
	}
}

// capabilities keeps names in the bounding, effective and permitted sets; inheritable and
// ambient stay empty so that nothing the guest execs gains capabilities by itself.
func capabilities(names []string) *specs.LinuxCapabilities {
	set := func() []string { return append([]string{}, names...) }
	return &specs.LinuxCapabilities{Bounding: set(), Effective: set(), Permitted: set()}
}
