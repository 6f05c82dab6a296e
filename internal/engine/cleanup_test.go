package engine

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// leftovers lists what of dataDir remains mounted or attached to a loop device, plus runc
// containers and cgroups named after ids.
func leftovers(t *testing.T, dataDir string, ids []string) []string {
	t.Helper()
	var out []string
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cgroupRoots []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if strings.HasPrefix(fields[4], dataDir) {
			out = append(out, "mount "+fields[4])
		}
		if i := indexOf(fields, "-"); i > 0 && i+1 < len(fields) && strings.HasPrefix(fields[i+1], "cgroup") {
			cgroupRoots = append(cgroupRoots, fields[4])
		}
	}
	out = append(out, loopsUnder(t, dataDir)...)
	for _, id := range ids {
		for _, root := range cgroupRoots {
			_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() && d.Name() == id {
					out = append(out, "cgroup "+p)
				}
				if err == nil && d.IsDir() && strings.Count(strings.TrimPrefix(p, root), "/") > 3 {
					return filepath.SkipDir
				}
				return nil
			})
		}
	}
	if b, err := exec.Command("runc", "--root", filepath.Join(dataDir, "runc"), "list", "-q").Output(); err == nil {
		for _, l := range strings.Fields(string(b)) {
			out = append(out, "runc "+l)
		}
	}
	if ents, err := os.ReadDir(filepath.Join(dataDir, "sandboxes")); err == nil {
		for _, e := range ents {
			out = append(out, "state dir "+e.Name())
		}
	}
	return out
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	return -1
}

func TestCreateDeleteCyclesLeaveNothing(t *testing.T) {
	eng, dir := newTestEngine(t)
	ctx := context.Background()
	cycles := 10 // enough to show a leak; the heavy run does 100
	if testenv.HeavyOn() && !testing.Short() {
		cycles = 100
	}
	var ids []string
	for i := 0; i < cycles; i++ {
		sb := mustCreate(t, eng, sandbox.Spec{})
		ids = append(ids, sb.ID)
		if i%10 == 0 {
			shOK(t, eng, sb.ID, "echo hi > /tmp/x")
		}
		if err := eng.Delete(ctx, sb.ID); err != nil {
			t.Fatalf("cycle %d: delete: %v", i, err)
		}
	}
	if left := leftovers(t, dir, ids); len(left) > 0 {
		t.Fatalf("after %d cycles, left behind:\n%s", cycles, strings.Join(left, "\n"))
	}
}

func TestStopStartKeepsFilesystem(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	sb := mustCreate(t, eng, sandbox.Spec{Name: "persist"})
	shOK(t, eng, sb.ID, "echo kept > /workspace/f; sleep 1000 &")
	// A process that handles SIGTERM: stopping must deliver it (the guest forwards it).
	shOK(t, eng, sb.ID, `sh -c 'trap "echo got-term > /workspace/term; exit 0" TERM; touch /tmp/trapped; while :; do sleep 0.1; done' >/dev/null 2>&1 &`)
	// Stop only once the trap is set: a SIGTERM that overtakes it would just kill the shell.
	shOK(t, eng, sb.ID, "for i in $(seq 100); do [ -e /tmp/trapped ] && exit 0; sleep 0.05; done; exit 1")
	if _, err := eng.Stop(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}}); err == nil {
		t.Error("exec in a stopped sandbox succeeded")
	}
	if _, err := eng.Start(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if got := shOK(t, eng, sb.ID, "cat /workspace/f /workspace/term; pgrep sleep || echo no-sleep"); got != "kept\ngot-term\nno-sleep" {
		t.Errorf("after stop/start: %q", got)
	}
}

func TestWarmPoolClaimsAreFreshAndReplaced(t *testing.T) {
	eng, _ := newTestEngine(t, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 2})
	ctx := context.Background()
	waitPoolReady(t, eng, 2)
	a := mustCreate(t, eng, sandbox.Spec{Name: "pa"})
	shOK(t, eng, a.ID, "echo mine > /tmp/owner")
	if err := eng.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	waitPoolReady(t, eng, 2)
	b := mustCreate(t, eng, sandbox.Spec{Name: "pb"})
	if b.ID == a.ID {
		t.Fatal("a claimed sandbox was handed out twice")
	}
	if res := sh(t, eng, b.ID, "test -e /tmp/owner"); res.ExitCode == 0 {
		t.Fatal("second claim sees the first user's file")
	}
	st := eng.PoolStats()
	if len(st) != 1 || st[0].Claims < 2 {
		t.Errorf("pool stats = %+v, want 2 claims", st)
	}
	// A restrictive request does not take a moderate sandbox.
	r := mustCreate(t, eng, sandbox.Spec{Name: "pr", Profile: "restrictive"})
	if got := shOK(t, eng, r.ID, "id -u"); got != "1000" {
		t.Errorf("restrictive sandbox runs as %s", got)
	}
}

func waitPoolReady(t *testing.T, eng *Engine, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if st := eng.PoolStats(); len(st) > 0 && st[0].Ready >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pool did not fill to %d: %+v", n, eng.PoolStats())
}
