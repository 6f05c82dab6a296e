// Package seccomp builds the OCI seccomp filters behind Paddock's security profiles.
package seccomp

import (
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
)

// Profile names.
const (
	DockerDefault = "docker-default" // deny list equivalent to Docker's (25+) default profile
	Moderate      = "moderate"       // DockerDefault plus ptrace, bpf, userfaultfd, perf_event_open
	Restrictive   = "restrictive"    // allow list
)

// nsFlags are the clone flags that create namespaces; no profile lets a sandbox make new ones.
var nsFlags = []uint64{unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWUSER,
	unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP}

// OCI returns the runtime-spec seccomp configuration for the named profile.
func OCI(name string) (*specs.LinuxSeccomp, error) {
	switch name {
	case DockerDefault:
		return denyList(dockerDenied), nil
	case Moderate:
		return denyList(append(append([]string{}, dockerDenied...), moderateDenied...)), nil
	case Restrictive:
		return allowList(), nil
	}
	return nil, errdefs.InvalidArgument("unknown seccomp profile %q", name)
}

func eperm() *uint {
	v := uint(unix.EPERM)
	return &v
}

func enosys() *uint {
	v := uint(unix.ENOSYS)
	return &v
}

func architectures() []specs.Arch {
	switch runtime.GOARCH {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	}
	return nil
}

// clone3 cannot be filtered by its flags (they live in a struct), so it answers ENOSYS and
// libc falls back to clone, whose flags can be checked.
func clone3Rule() specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: enosys()}
}

// denyList allows everything except names and namespace-creating clones.
func denyList(names []string) *specs.LinuxSeccomp {
	rules := []specs.LinuxSyscall{
		{Names: names, Action: specs.ActErrno, ErrnoRet: eperm()},
		clone3Rule(),
	}
	// Rules are OR-ed: deny clone when any namespace flag is set.
	for _, f := range nsFlags {
		rules = append(rules, specs.LinuxSyscall{Names: []string{"clone"}, Action: specs.ActErrno, ErrnoRet: eperm(),
			Args: []specs.LinuxSeccompArg{{Index: cloneFlagsArg(), Value: f, ValueTwo: f, Op: specs.OpMaskedEqual}}})
	}
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: architectures(), Syscalls: rules}
}

// allowList denies everything except the allowed set and clones without namespace flags.
func allowList() *specs.LinuxSeccomp {
	var mask uint64
	for _, f := range nsFlags {
		mask |= f
	}
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: eperm(),
		Architectures:   architectures(),
		Syscalls: []specs.LinuxSyscall{
			{Names: restrictiveAllowed, Action: specs.ActAllow},
			{Names: []string{"clone"}, Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{{Index: cloneFlagsArg(), Value: mask, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
			clone3Rule(),
		},
	}
}

// cloneFlagsArg is the index of clone's flags argument (the second on s390x).
func cloneFlagsArg() uint {
	if runtime.GOARCH == "s390x" {
		return 1
	}
	return 0
}
