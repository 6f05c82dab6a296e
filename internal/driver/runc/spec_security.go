package runc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/guestproto"
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

// process is the guest as PID 1: the profile's identity, capabilities and rlimits, no new
// privileges. There is deliberately no negative OOMScoreAdj: the guest makes its children
// preferred OOM victims by raising their score, which needs no privilege.
func process(sec sandbox.Security) *specs.Process {
	return &specs.Process{
		User: specs.User{UID: sec.UID, GID: sec.GID},
		Args: []string{guestBinaryPath, "guest"},
		Env: []string{
			fmt.Sprintf("%s=%d", guestproto.ListenFDEnv, guestListenFD),
			fmt.Sprintf("%s=%d", guestproto.DefaultUIDEnv, sec.UID),
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		},
		Cwd:             "/",
		NoNewPrivileges: true,
		Capabilities:    capabilities(sec.Capabilities),
		Rlimits:         rlimits(sec.Rlimits),
	}
}

// capabilities keeps names in the bounding, effective and permitted sets; inheritable and
// ambient stay empty so that nothing the guest execs gains capabilities by itself.
func capabilities(names []string) *specs.LinuxCapabilities {
	set := func() []string { return append([]string{}, names...) }
	return &specs.LinuxCapabilities{Bounding: set(), Effective: set(), Permitted: set()}
}

// rlimits are the profile's resource limits, kept within what the runtime can set: NOFILE
// within the host's fs.nr_open, and every limit within Paddock's own hard limit when the
// runtime will lack CAP_SYS_RESOURCE (Paddock in a container or a systemd unit that drops
// it), since raising a hard limit needs it and the sandbox would not start.
func rlimits(in []sandbox.Rlimit) []specs.POSIXRlimit {
	out := make([]specs.POSIXRlimit, 0, len(in))
	for _, r := range in {
		ceiling := hostCeiling(r.Type)
		r.Hard = min(r.Hard, ceiling)
		r.Soft = min(r.Soft, r.Hard)
		out = append(out, specs.POSIXRlimit{Type: r.Type, Soft: r.Soft, Hard: r.Hard})
	}
	return out
}

var rlimitResources = map[string]int{
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_CORE": unix.RLIMIT_CORE,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_NICE": unix.RLIMIT_NICE,
}

// hostCeiling is the highest hard value of the limit typ that the runtime can set.
func hostCeiling(typ string) uint64 {
	ceiling := uint64(unix.RLIM_INFINITY)
	if typ == "RLIMIT_NOFILE" {
		ceiling = nrOpen()
	}
	res, ok := rlimitResources[typ]
	if !ok || canRaiseRlimits() {
		return ceiling
	}
	var own unix.Rlimit
	if err := unix.Getrlimit(res, &own); err != nil {
		return ceiling
	}
	return min(ceiling, own.Max)
}

// canRaiseRlimits reports whether a runtime started by this process will hold
// CAP_SYS_RESOURCE: it runs as root and the capability is in the bounding set.
var canRaiseRlimits = sync.OnceValue(func() bool {
	in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, unix.CAP_SYS_RESOURCE, 0, 0, 0)
	return os.Geteuid() == 0 && err == nil && in == 1
})

// nrOpen is the host's ceiling on open files per process.
var nrOpen = sync.OnceValue(func() uint64 {
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return 1 << 20
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 1 << 20
	}
	return n
})
