package engine

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

const childEnv = "PADDOCK_TEST_ENGINE_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChildEngine(dir)
		return
	}
	os.Exit(testenv.Main(m))
}

// runChildEngine is the process the adoption test kills with SIGKILL: it opens an engine
// with a warm pool, creates a sandbox, reports it, and waits to be killed.
func runChildEngine(dir string) {
	ctx := context.Background()
	eng, err := Open(ctx, Config{DataDir: dir, GuestBinary: os.Getenv("PADDOCK_TEST_GUEST"),
		Pools:  []manager.PoolConfig{{Image: "base", Profile: "moderate", Size: 1}},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	sb, err := eng.Create(ctx, sandbox.Spec{Name: "adoptme", Env: map[string]string{"KEPT": "yes"}}, "")
	if err == nil {
		_, err = eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "echo before > /workspace/f"})
	}
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	for len(eng.PoolStats()) == 0 || eng.PoolStats()[0].Ready < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("READY", sb.ID)
	select {}
}

func TestKilledEngineIsAdoptedOnRestart(t *testing.T) {
	testenv.NeedRunc(t)
	dir := testenv.TempDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "PADDOCK_TEST_GUEST="+testenv.PaddockBinary(t))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if !ok {
		t.Fatalf("child engine: %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	eng := openTestEngine(t, dir)
	ctx := context.Background()
	sb, err := eng.Get(ctx, "adoptme")
	if err != nil {
		t.Fatal(err)
	}
	if sb.ID != id || sb.State != sandbox.StateRunning {
		t.Fatalf("after restart: %s is %s, want %s running", sb.ID, sb.State, id)
	}
	if got := shOK(t, eng, sb.ID, "cat /workspace/f; echo $KEPT"); got != "before\nyes" {
		t.Errorf("adopted sandbox: %q", got)
	}
	// The killed engine's warm sandbox had no record: reconcile must have deleted it.
	insts, err := eng.Manager.List(ctx, sandbox.ListFilter{})
	if err != nil || len(insts) != 1 {
		t.Errorf("records after restart = %d (%v), want 1", len(insts), err)
	}
	var units []string
	for _, l := range leftovers(t, dir, nil) {
		if u, ok := strings.CutPrefix(l, "runc "); ok {
			units = append(units, u)
		}
	}
	if len(units) != 1 || units[0] != id {
		t.Errorf("runc containers after restart: %v, want only %s", units, id)
	}
}
