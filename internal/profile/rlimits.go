package profile

import "github.com/paddock/paddock/internal/sandbox"

// Per-process limits shared by every profile.
const (
	nofileSoft = 1024    // what select()-era programs expect; Go and others raise it to hard
	memlock    = 8 << 20 // the kernel's default since 5.16, and Docker's
	msgqueue   = 819200  // the kernel's default (bytes of POSIX message queues, per uid)
	sigpending = 4096    // queued signals, per uid
	// maxNofile is the kernel's default fs.nr_open: no process may have more.
	maxNofile = 1 << 20
	// guestFDsPerPid is what the guest holds per process it started (stdin, stdout and
	// stderr pipes or a terminal, and the stream's connection); the hard NOFILE limit leaves
	// it that many per pid of the sandbox, plus guestFDsBase for itself.
	guestFDsPerPid = 4
	guestFDsBase   = 1024
)

// nofileHard is each profile's hard limit on open files (before the guest's share): what a process may raise its soft
// limit to (524288 is Docker 25's and systemd's default).
var nofileHard = map[string]uint64{"permissive": 524288, "moderate": 8192, "restrictive": 2048}

// memlockOf is each profile's locked-memory limit.
var memlockOf = map[string]uint64{"permissive": memlock, "moderate": memlock, "restrictive": 64 << 10}

// rlimits returns the resource limits of a sandbox of profile name with a pids limit of
// pids (0 = none). They are set on the guest, which passes them on to every process it
// starts; the guest shares the NOFILE hard limit with them (it cannot raise its own), so
// that limit grows with pids until the guest cannot run out of descriptors before the
// sandbox runs out of pids. NPROC is not set: it counts every process of a uid on the
// whole host, not per sandbox (the pids cgroup limits a sandbox).
func rlimits(name string, pids int64) []sandbox.Rlimit {
	hard := nofileHard[name]
	if need := uint64(guestFDsPerPid*max(pids, 0) + guestFDsBase); need > hard {
		hard = need
	}
	hard = min(hard, maxNofile)
	fixed := func(typ string, v uint64) sandbox.Rlimit { return sandbox.Rlimit{Type: typ, Soft: v, Hard: v} }
	return []sandbox.Rlimit{
		{Type: "RLIMIT_NOFILE", Soft: min(nofileSoft, hard), Hard: hard},
		fixed("RLIMIT_CORE", 0),
		fixed("RLIMIT_MEMLOCK", memlockOf[name]),
		fixed("RLIMIT_MSGQUEUE", msgqueue),
		fixed("RLIMIT_SIGPENDING", sigpending),
		fixed("RLIMIT_RTPRIO", 0),
		fixed("RLIMIT_NICE", 0),
	}
}
