package guest

import (
	"os"
	"os/signal"
	"syscall"
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
