package runc_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/driver/runc"
	"github.com/paddock/paddock/internal/sandbox"
)

const readyTimeout = 15 * time.Second

// run creates and starts a sandbox, waits for its guest and deletes it when t ends.
func (e *env) run(t *testing.T) sandbox.InstanceSpec {
	t.Helper()
	return e.runSpec(t, drivertest.NewSpec(t, e.img))
}

func (e *env) runSpec(t *testing.T, spec sandbox.InstanceSpec) sandbox.InstanceSpec {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { _ = e.d.Delete(context.Background(), spec.ID) })
	if err := e.d.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	e.ready(t, spec.ID)
	return spec
}

func (e *env) ready(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := drivertest.WaitReady(ctx, e.d, id); err != nil {
		t.Fatal(err)
	}
}

// runtime runs the runtime CLI on the driver's root, behind the driver's back.
func (e *env) runtime(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("runc", append([]string{"--root", e.runtimeRoot}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("runc %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func TestCyclesLeaveNothing(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := 0; i < 20; i++ {
		spec := e.run(t)
		ids = append(ids, spec.ID)
		if err := e.d.Delete(context.Background(), spec.ID); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	noLeftovers(t, e, ids)
}

func TestDeleteAfterRuntimeLostTrack(t *testing.T) {
	cases := []struct {
		name     string
		sabotage func(t *testing.T, e *env, id string)
	}{
		{"container deleted", func(t *testing.T, e *env, id string) { e.runtime(t, "delete", "--force", id) }},
		{"container killed", func(t *testing.T, e *env, id string) { e.runtime(t, "kill", id, "KILL") }},
		{"runtime state removed", func(t *testing.T, e *env, id string) {
			if err := os.RemoveAll(filepath.Join(e.runtimeRoot, id)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			spec := e.run(t)
			pid := initPid(t, e, spec.ID)
			c.sabotage(t, e, spec.ID)
			if err := e.d.Delete(context.Background(), spec.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if err := syscall.Kill(pid, 0); err == nil && !zombie(pid) {
				t.Errorf("guest (pid %d) still runs", pid)
			}
			noLeftovers(t, e, []string{spec.ID})
		})
	}
}

// TestStartAfterCrash covers a sandbox whose guest died while its root stayed mounted (the
// host lost track: a crash, a kill behind the driver's back): Start brings it back.
func TestStartAfterCrash(t *testing.T) {
	e := newEnv(t)
	spec := e.run(t)
	// Several times: each start replaces the network device of the last in the same pinned
	// namespace, which must wait for the old device to be gone.
	for round := 1; round <= 3; round++ {
		e.runtime(t, "kill", spec.ID, "KILL")
		// The runtime reports the container stopped once its init is gone.
		deadline := time.Now().Add(readyTimeout)
		for {
			list, err := e.d.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 1 && list[0].State == sandbox.StateStopped {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: List after kill: %+v, want one stopped unit", round, list)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := e.d.Start(context.Background(), spec.ID); err != nil {
			t.Fatalf("round %d: start after crash: %v", round, err)
		}
		e.ready(t, spec.ID)
	}
	if err := e.d.Delete(context.Background(), spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}

// TestAdopt checks that a new driver over the same directories (a server restart) sees the
// running sandbox, reaches its guest and removes it.
func TestAdopt(t *testing.T) {
	e := newEnv(t)
	spec := e.run(t)
	d2, err := runc.New(runc.Config{StateDir: e.stateDir, RuntimeRoot: e.runtimeRoot, GuestBinary: e.guest})
	if err != nil {
		t.Fatal(err)
	}
	list, err := d2.List(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != spec.ID || list[0].State != sandbox.StateRunning ||
		list[0].Labels[sandbox.LabelID] != spec.ID {
		t.Fatalf("List = %+v, %v; want %s running with its labels", list, err, spec.ID)
	}
	e.d = d2
	e.ready(t, spec.ID)
	if err := d2.Delete(context.Background(), spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}

// TestListReportsOrphans checks that a container whose state directory is gone is listed,
// without labels, and that Delete removes it.
func TestListReportsOrphans(t *testing.T) {
	e := newEnv(t)
	spec := e.run(t)
	// Hide the sandbox directory: the container is now an orphan.
	hidden := e.stateDir + ".hidden"
	if err := os.Rename(filepath.Join(e.stateDir, spec.ID), hidden); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// On failure, put the directory back before the deferred Delete: it holds a mount.
		if _, err := os.Lstat(hidden); err == nil {
			_ = os.Rename(hidden, filepath.Join(e.stateDir, spec.ID))
		}
	})
	list, err := e.d.List(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != spec.ID || list[0].State != sandbox.StateRunning {
		t.Fatalf("List = %+v, %v; want the orphan %s, running", list, err, spec.ID)
	}
	if err := e.d.Delete(context.Background(), spec.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := e.d.List(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("List after deleting the orphan = %+v, %v; want empty", list, err)
	}
	// Put the directory back so that its mount can be removed by the driver.
	if err := os.Rename(hidden, filepath.Join(e.stateDir, spec.ID)); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Delete(context.Background(), spec.ID); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, []string{spec.ID})
}

// initPid is the host pid of the sandbox's guest, from the runtime.
func initPid(t *testing.T, e *env, id string) int {
	t.Helper()
	out, err := exec.Command("runc", "--root", e.runtimeRoot, "state", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 {
		t.Fatalf("runc state: %v: %s", err, out)
	}
	return st.Pid
}

// zombie reports whether pid has exited and only waits to be reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

// TestCancelledStartLeavesNoProcess cancels Start at moments spread over a start's length: a
// runtime killed halfway used to leave a guest running that no runtime state knew of, in a
// cgroup of its own, outliving the test's data dir. Whatever Start returns, after Delete no
// process of the unit is left and nothing else is either.
func TestCancelledStartLeavesNoProcess(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := 0; i < 12; i++ {
		spec := drivertest.NewSpec(t, e.img)
		ids = append(ids, spec.ID)
		if err := e.d.Create(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i*8)*time.Millisecond)
		err := e.d.Start(ctx, spec.ID)
		cancel()
		t.Logf("start cancelled after %d ms: %v", i*8, err)
		if err := e.d.Delete(context.Background(), spec.ID); err != nil {
			t.Fatalf("delete after a cancelled start: %v", err)
		}
		if pids := procsInCgroup(t, spec.ID); len(pids) > 0 {
			t.Errorf("after delete, processes %v are still in %s's cgroup", pids, spec.ID)
		}
	}
	noLeftovers(t, e, ids)
}

// procsInCgroup lists the processes whose cgroup path (in any hierarchy) ends in /<id>.
func procsInCgroup(t *testing.T, id string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", en.Name(), "cgroup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasSuffix(line, "/"+id) && !zombie(pid) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
