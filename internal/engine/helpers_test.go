package engine

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// newTestEngine opens a server-mode engine on a fresh data dir with real runc.
func newTestEngine(t testing.TB, pools ...manager.PoolConfig) (*Engine, string) {
	t.Helper()
	testenv.NeedRunc(t)
	dir := testenv.TempDir(t)
	return openTestEngine(t, dir, pools...), dir
}

func openTestEngine(t testing.TB, dir string, pools ...manager.PoolConfig) *Engine {
	t.Helper()
	return openTestEngineDNS(t, dir, testenv.NoDNS, pools...)
}

// openTestEngineDNS is openTestEngine whose egress sandboxes resolve names with dns.
func openTestEngineDNS(t testing.TB, dir, dns string, pools ...manager.PoolConfig) *Engine {
	t.Helper()
	ctx := context.Background()
	level := slog.LevelWarn
	if os.Getenv("PADDOCK_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	eng, err := Open(ctx, Config{DataDir: dir, GuestBinary: testenv.PaddockBinary(t), Pools: pools, DNS: []string{dns},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sbs, _ := eng.List(cctx, sandbox.ListFilter{})
		for _, sb := range sbs {
			_ = eng.Delete(cctx, sb.ID)
		}
		_ = eng.Close(cctx)
	})
	return eng
}

// mustCreate creates a sandbox or fails the test.
func mustCreate(t testing.TB, eng *Engine, spec sandbox.Spec) *sandbox.Sandbox {
	t.Helper()
	sb, err := eng.Create(context.Background(), spec, "")
	if err != nil {
		t.Fatalf("create %+v: %v", spec, err)
	}
	return sb
}

// sh runs a shell command in a sandbox and returns its result.
func sh(t testing.TB, eng *Engine, id, script string) *manager.ExecResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := eng.Exec(ctx, id, manager.ExecRequest{Shell: script, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("exec %q: %v", script, err)
	}
	return res
}

// shOK runs a shell command that must succeed and returns its trimmed stdout.
func shOK(t testing.TB, eng *Engine, id, script string) string {
	t.Helper()
	res := sh(t, eng, id, script)
	if res.ExitCode != 0 {
		t.Fatalf("%q: exit %d\nstdout: %s\nstderr: %s", script, res.ExitCode, res.Stdout, res.Stderr)
	}
	return strings.TrimSpace(string(res.Stdout))
}

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }
