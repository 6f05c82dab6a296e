package guest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalHelperEnv makes the test binary act as a guest that called IgnoreSignals.
const signalHelperEnv = "PADDOCK_TEST_SIGNAL_HELPER"

// killerSignals are signals whose default in a Go program is to exit or crash when sent with
// kill, plus ones it merely catches; a real-time signal stands for the rest.
var killerSignals = []syscall.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGABRT,
	syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGTRAP,
	syscall.SIGSYS, syscall.SIGSTKFLT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE,
	syscall.SIGALRM, syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGIO,
	syscall.SIGPWR, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.Signal(40),
	syscall.Signal(64),
}

// TestIgnoreSignals runs a helper process that calls IgnoreSignals, sends it each signal with
// kill (as a process in the sandbox would), and checks that it is still alive afterwards, that
// a real fault still panics (recoverably) in it, and that processes it starts do not inherit
// any ignored signal.
func TestIgnoreSignals(t *testing.T) {
	if os.Getenv(signalHelperEnv) != "" {
		signalHelper()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIgnoreSignals$")
	cmd.Env = append(os.Environ(), signalHelperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	next := func(after string) string {
		if !lines.Scan() {
			t.Fatalf("helper ended %s (%v)", after, lines.Err())
		}
		return lines.Text()
	}
	if got := next("at start"); got != "recovered" {
		t.Fatalf("a nil dereference in the helper: %q, want it recovered as a panic", got)
	}
	before, child := next("at start"), next("at start")
	if extra := sigMask(t, child) &^ sigMask(t, before); extra != 0 {
		t.Errorf("a child of the guest ignores signals %#x (its parent started with SigIgn %s)", extra, before)
	}
	pid := cmd.Process.Pid
	for _, sig := range killerSignals {
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatalf("kill %v: %v", sig, err)
		}
		waitDelivered(t, pid)
		if _, err := fmt.Fprintln(stdin, "ping"); err != nil {
			t.Fatalf("after %v: %v", sig, err)
		}
		if got := next("after " + sig.String()); got != "pong" {
			t.Fatalf("after %v: %q", sig, got)
		}
	}
}

// signalHelper is the helper process of TestIgnoreSignals.
func signalHelper() {
	before := sigIgn("/proc/self/status")
	IgnoreSignals()
	func() {
		defer func() {
			if recover() != nil {
				fmt.Println("recovered")
			}
		}()
		var p *int
		*p = 1
	}()
	out, err := exec.Command("grep", "^SigIgn:", "/proc/self/status").Output()
	if err != nil {
		fmt.Println("child failed:", err)
		os.Exit(1)
	}
	fmt.Println(before)
	fmt.Println(strings.TrimSpace(strings.TrimPrefix(string(out), "SigIgn:")))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println("pong")
	}
	os.Exit(0)
}

// sigIgn returns the SigIgn mask of a /proc status file.
func sigIgn(path string) string {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func sigMask(t *testing.T, hex string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		t.Fatalf("signal mask %q: %v", hex, err)
	}
	return v
}

// waitDelivered waits until no signal is pending for pid, so that a signal that kills
// cannot arrive after the helper answered.
func waitDelivered(t *testing.T, pid int) {
	t.Helper()
	status := fmt.Sprintf("/proc/%d/status", pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(status)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "ShdPnd:\t0000000000000000") {
			return
		}
	}
	t.Fatal("a signal stayed pending for 10 s")
}
