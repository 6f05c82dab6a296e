package runc_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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

// BenchmarkList measures one Driver.List, what the manager's periodic reconcile pass asks
// the driver for, with n running sandboxes.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{1, 10, 30} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			e := newEnv(b)
			ctx := context.Background()
			for range n {
				spec := drivertest.NewSpec(b, e.img)
				b.Cleanup(func() { _ = e.d.Delete(context.Background(), spec.ID) })
				if err := e.d.Create(ctx, spec); err != nil {
					b.Fatal(err)
				}
				if err := e.d.Start(ctx, spec.ID); err != nil {
					b.Fatal(err)
				}
			}
			before := cpuTime(b)
			for b.Loop() {
				insts, err := e.d.List(ctx)
				if err != nil || len(insts) != n {
					b.Fatalf("List = %d units, %v; want %d", len(insts), err, n)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time (user and system) of this process and its waited-for children:
// List's runtime invocations included.
func cpuTime(b *testing.B) time.Duration {
	var self, kids syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids) != nil {
		b.Fatal("getrusage failed")
	}
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}
