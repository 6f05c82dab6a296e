package seccomp

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func denied(sc *specs.LinuxSeccomp, name string) bool {
	for _, r := range sc.Syscalls {
		if slices.Contains(r.Names, name) && len(r.Args) == 0 {
			return r.Action == specs.ActErrno
		}
	}
	return sc.DefaultAction == specs.ActErrno
}

// errnoOf is the errno a call of name without argument conditions fails with (0 = allowed).
func errnoOf(sc *specs.LinuxSeccomp, name string) uint {
	for _, r := range sc.Syscalls {
		if slices.Contains(r.Names, name) && len(r.Args) == 0 {
			if r.Action != specs.ActErrno || r.ErrnoRet == nil {
				return 0
			}
			return *r.ErrnoRet
		}
	}
	if sc.DefaultAction != specs.ActErrno || sc.DefaultErrnoRet == nil {
		return 0
	}
	return *sc.DefaultErrnoRet
}

func TestProfiles(t *testing.T) {
	for _, name := range []string{DockerDefault, Moderate, Restrictive} {
		sc, err := OCI(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, sys := range []string{"mount", "unshare", "keyctl", "bpf", "init_module", "setns",
			"io_uring_setup", "io_uring_enter", "io_uring_register"} {
			if !denied(sc, sys) {
				t.Errorf("%s allows %s", name, sys)
			}
		}
		if denied(sc, "read") || denied(sc, "execve") || denied(sc, "socket") {
			t.Errorf("%s denies basic syscalls", name)
		}
		var clone3 *specs.LinuxSyscall
		for i, r := range sc.Syscalls {
			if slices.Contains(r.Names, "clone3") {
				clone3 = &sc.Syscalls[i]
			}
		}
		if clone3 == nil || clone3.ErrnoRet == nil || *clone3.ErrnoRet != 38 {
			t.Errorf("%s: clone3 must fail with ENOSYS: %+v", name, clone3)
		}
		seen := map[string]bool{}
		for _, r := range sc.Syscalls {
			if len(r.Args) > 0 {
				continue
			}
			for _, n := range r.Names {
				if seen[n] {
					t.Errorf("%s lists %s twice", name, n)
				}
				seen[n] = true
			}
		}
	}
	for _, name := range []string{DockerDefault, Moderate, Restrictive} {
		sc, _ := OCI(name)
		for _, sys := range []string{"io_uring_setup", "io_uring_enter", "io_uring_register"} {
			if got := errnoOf(sc, sys); got != 1 {
				t.Errorf("%s: %s fails with errno %d, want EPERM (1) as under Docker 25+", name, sys, got)
			}
		}
	}
	dd, _ := OCI(DockerDefault)
	mod, _ := OCI(Moderate)
	if denied(dd, "ptrace") || !denied(mod, "ptrace") {
		t.Error("ptrace: docker-default must allow it, moderate must deny it")
	}
	if _, err := OCI("nope"); err == nil {
		t.Error("unknown profile accepted")
	}
}
