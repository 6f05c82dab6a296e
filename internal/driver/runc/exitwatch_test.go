package runc_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestExitWatcher runs the ExitWatcher cases with a crash made the way it happens in real
// life: the host SIGKILLs the sandbox's init (the guest) behind the driver's back.
func TestExitWatcher(t *testing.T) {
	var e *env
	drivertest.RunExitWatcher(t, func(t *testing.T) (sandbox.Driver, sandbox.Image) {
		e = newEnv(t)
		return e.d, e.img
	}, func(t *testing.T, _ sandbox.Driver, id string) {
		b, err := os.ReadFile(filepath.Join(e.stateDir, id, "init.pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	})
}
