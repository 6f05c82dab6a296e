package guest

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompData encodes struct seccomp_data for the BPF VM, which loads words big-endian: each
// word is written the way the kernel's native load would read it.
func seccompData(arch, nr uint32, args ...uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[offNr:], nr)
	binary.BigEndian.PutUint32(b[offArch:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[offArgs+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[offArgs+8*i+4:], uint32(a>>32))
	}
	return b
}

// TestFaultSignalFilter runs BlockFaultSignals' program on the calls that could crash the
// guest and on neighbours that must stay allowed, for each architecture.
func TestFaultSignalFilter(t *testing.T) {
	vm, err := bpf.NewVM(faultSignalFilter())
	if err != nil {
		t.Fatal(err)
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		deny  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
		segv  = uint64(unix.SIGSEGV)
		term  = uint64(unix.SIGTERM)
		ptr   = uint64(0x7ffc_1234_5678)
	)
	x86, i386, arm64, arm := uint32(unix.AUDIT_ARCH_X86_64), uint32(unix.AUDIT_ARCH_I386), uint32(unix.AUDIT_ARCH_AARCH64), uint32(unix.AUDIT_ARCH_ARM)
	cases := []struct {
		name string
		in   []byte
		want uint32
	}{
		{"sigqueue SEGV to 1", seccompData(x86, 129, 1, segv, ptr), deny},
		{"sigqueue SYS to 1", seccompData(x86, 129, 1, uint64(unix.SIGSYS), ptr), deny},
		{"sigqueue SEGV to 1, high bits set", seccompData(x86, 129, 1|0xffff_ffff_0000_0000, segv, ptr), deny},
		{"sigqueue TERM to 1", seccompData(x86, 129, 1, term, ptr), allow},
		{"sigqueue SEGV to 2", seccompData(x86, 129, 2, segv, ptr), allow},
		{"x32 sigqueue SEGV to 1", seccompData(x86, x32|524, 1, segv, ptr), deny},
		{"tgsigqueue BUS to 1", seccompData(x86, 297, 1, 7, uint64(unix.SIGBUS), ptr), deny},
		{"tgsigqueue BUS to 7", seccompData(x86, 297, 7, 7, uint64(unix.SIGBUS), ptr), allow},
		{"pidfd SEGV with info", seccompData(x86, 424, 5, segv, ptr, 0), deny},
		{"pidfd SEGV with info above 4 GiB", seccompData(x86, 424, 5, segv, 1<<32, 0), deny},
		{"pidfd SEGV without info", seccompData(x86, 424, 5, segv, 0, 0), allow},
		{"pidfd TERM with info", seccompData(x86, 424, 5, term, ptr, 0), allow},
		{"F_SETSIG SEGV", seccompData(x86, 72, 3, unix.F_SETSIG, segv), deny},
		{"F_SETSIG TERM", seccompData(x86, 72, 3, unix.F_SETSIG, term), allow},
		{"F_SETOWN 1", seccompData(x86, 72, 3, unix.F_SETOWN, 1), allow},
		{"kill SEGV to 1", seccompData(x86, 62, 1, segv), allow},
		{"write", seccompData(x86, 1, 1, ptr, 4), allow},
		{"i386 sigqueue SEGV to 1", seccompData(i386, 178, 1, segv, ptr), deny},
		{"i386 fcntl64 F_SETSIG FPE", seccompData(i386, 221, 3, unix.F_SETSIG, uint64(unix.SIGFPE)), deny},
		{"i386 129 is not sigqueue", seccompData(i386, 129, 1, segv, ptr), allow},
		{"arm64 sigqueue ILL to 1", seccompData(arm64, 138, 1, uint64(unix.SIGILL), ptr), deny},
		{"arm64 fcntl F_SETSIG TRAP", seccompData(arm64, 25, 3, unix.F_SETSIG, uint64(unix.SIGTRAP)), deny},
		{"arm tgsigqueue STKFLT to 1", seccompData(arm, 363, 1, 9, uint64(unix.SIGSTKFLT), ptr), deny},
		{"unknown arch", seccompData(0x1234, 129, 1, segv, ptr), allow},
	}
	for _, c := range cases {
		got, err := vm.Run(c.in)
		if err != nil || uint32(got) != c.want {
			t.Errorf("%s: %#x, %v; want %#x", c.name, got, err, c.want)
		}
	}
}
