package guest

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// signalSink receives the signals IgnoreSignals catches. Nobody reads it: os/signal never
// blocks on a full channel, it drops the signal, which is the point.
var signalSink = make(chan os.Signal, 1)

// IgnoreSignals makes the guest survive every signal sent to it from inside its sandbox.
//
// The kernel delivers such a signal to a namespace's init only when init handles it, and the
// Go runtime handles nearly all of them, then exits (SIGTERM, SIGHUP, SIGINT) or crashes
// (SIGQUIT, and SIGSEGV, SIGBUS, SIGILL... sent with kill) when nobody asked for them. Asking
// for them consumes them. signal.Ignore would set SIG_IGN instead, which every process the
// guest starts would inherit through exec (SIGTERM, SIGINT and SIGPIPE ignored in user
// commands); a caught signal is reset to its default in the child.
//
// Left alone: SIGKILL and SIGSTOP (never delivered from inside), SIGCHLD (the reaper asks for
// it), SIGURG (the runtime's preemption signal) and SIGPROF, which the runtime only acts on.
func IgnoreSignals() {
	var sigs []os.Signal
	for s := syscall.Signal(1); s <= 64; s++ {
		switch s {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPROF:
			continue
		}
		sigs = append(sigs, s)
	}
	signal.Notify(signalSink, sigs...)
}

// faultSignals are the signals the Go runtime takes for a real fault of its own unless the
// kernel says a process sent them (SI_USER, SI_TKILL): it crashes on them whatever
// os/signal was asked, because they lack _SigNotify in its table. A process in the sandbox
// can send them with another code: sigqueue (SI_QUEUE) or an I/O signal set with F_SETSIG.
var faultSignals = []uint32{uint32(unix.SIGILL), uint32(unix.SIGTRAP), uint32(unix.SIGBUS),
	uint32(unix.SIGFPE), uint32(unix.SIGSEGV), uint32(unix.SIGSTKFLT), uint32(unix.SIGSYS)}

// signalSyscalls are, per audit architecture, the numbers of the system calls that can
// send a signal with a code of the sender's choosing.
var signalSyscalls = []struct {
	arch                                            uint32
	sigqueueinfo, tgsigqueueinfo, pidfdSend, fcntls []uint32
}{
	// x32 (the 0x40000000 bit) has numbers of its own for the two rt_ calls.
	{unix.AUDIT_ARCH_X86_64, []uint32{129, x32 | 524}, []uint32{297, x32 | 536}, []uint32{424, x32 | 424}, []uint32{72, x32 | 72}},
	{unix.AUDIT_ARCH_I386, []uint32{178}, []uint32{335}, []uint32{424}, []uint32{55, 221}},
	{unix.AUDIT_ARCH_AARCH64, []uint32{138}, []uint32{240}, []uint32{424}, []uint32{25}},
	{unix.AUDIT_ARCH_ARM, []uint32{178}, []uint32{363}, []uint32{424}, []uint32{55, 221}},
}

const x32 = 0x40000000

// BlockFaultSignals closes what IgnoreSignals cannot: it installs a seccomp filter, on every
// thread of the guest and so on every process it starts, that refuses (EPERM) to send a
// fault signal to PID 1 with sigqueue (rt_sigqueueinfo, rt_tgsigqueueinfo), to send one with
// a siginfo through a pidfd (whose target a filter cannot see), and to make one an fd's
// I/O signal (F_SETSIG). kill, tkill and tgkill, whose codes the runtime trusts, stay open.
// It needs no_new_privs, which drivers set for the guest, or CAP_SYS_ADMIN.
func BlockFaultSignals() error {
	raw, err := bpf.Assemble(faultSignalFilter())
	if err != nil {
		return fmt.Errorf("assemble signal filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("install signal filter: %w", errno)
	}
	return nil
}

// Offsets in struct seccomp_data (little-endian: an argument's low word comes first).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// skipToEnd marks a jump past the deny of a rule, resolved by rule.
const skipToEnd = 0xff

// faultSignalFilter is BlockFaultSignals' program: per architecture, one rule per system
// call number; anything else is allowed.
func faultSignalFilter() []bpf.Instruction {
	var prog []bpf.Instruction
	for _, a := range signalSyscalls {
		var rules []bpf.Instruction
		for _, nr := range a.sigqueueinfo { // (pid, sig, info)
			rules = append(rules, rule(nr, argEquals(0, 1), argIn(1, faultSignals))...)
		}
		for _, nr := range a.tgsigqueueinfo { // (tgid, tid, sig, info)
			rules = append(rules, rule(nr, argEquals(0, 1), argIn(2, faultSignals))...)
		}
		for _, nr := range a.pidfdSend { // (pidfd, sig, info, flags)
			rules = append(rules, rule(nr, argIn(1, faultSignals), argNonZero(2))...)
		}
		for _, nr := range a.fcntls { // (fd, cmd, arg)
			rules = append(rules, rule(nr, argEquals(1, unix.F_SETSIG), argIn(2, faultSignals))...)
		}
		rules = append(rules, bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
		prog = append(prog,
			bpf.LoadAbsolute{Off: offArch, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: a.arch, SkipTrue: 1},
			bpf.Jump{Skip: uint32(len(rules))}) // another architecture: past this one's rules
		prog = append(prog, rules...)
	}
	return append(prog, bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
}

// rule denies system call nr when every condition holds; a condition that fails jumps to
// skipToEnd, past the deny.
func rule(nr uint32, conds ...[]bpf.Instruction) []bpf.Instruction {
	b := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offNr, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipFalse: skipToEnd},
	}
	for _, c := range conds {
		b = append(b, c...)
	}
	b = append(b, bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)})
	for i, in := range b {
		end := uint8(len(b) - i - 1)
		switch j := in.(type) {
		case bpf.JumpIf:
			if j.SkipTrue == skipToEnd {
				j.SkipTrue = end
			}
			if j.SkipFalse == skipToEnd {
				j.SkipFalse = end
			}
			b[i] = j
		case bpf.Jump:
			if j.Skip == skipToEnd {
				j.Skip = uint32(end)
			}
			b[i] = j
		}
	}
	return b
}

// argEquals holds when the low 32 bits of argument i are v (the int arguments here: the
// kernel reads no more of them).
func argEquals(i, v uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArgs + 8*i, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipFalse: skipToEnd},
	}
}

// argIn holds when the low 32 bits of argument i are one of vs.
func argIn(i uint32, vs []uint32) []bpf.Instruction {
	b := []bpf.Instruction{bpf.LoadAbsolute{Off: offArgs + 8*i, Size: 4}}
	for k, v := range vs {
		b = append(b, bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: uint8(len(vs) - k)})
	}
	return append(b, bpf.Jump{Skip: skipToEnd})
}

// argNonZero holds when the 64-bit argument i (a pointer) is not zero.
func argNonZero(i uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArgs + 8*i, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipFalse: 2},
		bpf.LoadAbsolute{Off: offArgs + 8*i + 4, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipTrue: skipToEnd},
	}
}
