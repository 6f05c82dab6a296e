package manager_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// newAuditedManager is a manager over the fake driver that keeps its audit events.
func newAuditedManager(t *testing.T) (*manager.Manager, *fake.Driver, *memory.Events) {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	events := &memory.Events{}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{},
		Reconcile: true, Audit: &audit.Recorder{Store: events}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m, drv, events
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// poolsReady reports whether the pools are exactly want (template → ready count, all full).
func poolsReady(m *manager.Manager, want map[string]int) bool {
	st := m.PoolStats()
	if len(st) != len(want) {
		return false
	}
	for _, p := range st {
		n, ok := want[p.Template]
		if !ok || p.Size != n || p.Ready != n {
			return false
		}
	}
	return true
}

func units(t *testing.T, drv *fake.Driver) int {
	t.Helper()
	us, err := drv.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}

func TestSetPoolsAddsResizesRemoves(t *testing.T) {
	m, drv, _ := newAuditedManager(t)
	ctx := context.Background()
	base := manager.PoolConfig{Template: "base", Image: "base", Profile: "moderate", Size: 1}
	if err := m.SetPools(ctx, []manager.PoolConfig{base}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "base pool of 1", func() bool { return poolsReady(m, map[string]int{"base": 1}) })

	base.Size = 3
	small := manager.PoolConfig{Template: "small", Image: "base", Profile: "restrictive", Size: 1}
	if err := m.SetPools(ctx, []manager.PoolConfig{base, small}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "base 3 + small 1", func() bool { return poolsReady(m, map[string]int{"base": 3, "small": 1}) })
	if n := units(t, drv); n != 4 {
		t.Errorf("units = %d, want 4 warm sandboxes", n)
	}

	base.Size = 1
	if err := m.SetPools(ctx, []manager.PoolConfig{base, small}); err != nil {
		t.Fatal(err)
	}
	if n := units(t, drv); n != 2 {
		t.Errorf("after shrinking base to 1: units = %d, want 2", n)
	}
	if err := m.SetPools(ctx, []manager.PoolConfig{small}); err != nil {
		t.Fatal(err)
	}
	if st := m.PoolStats(); len(st) != 1 || st[0].Template != "small" {
		t.Errorf("pools after removing base = %+v", st)
	}
	if n := units(t, drv); n != 1 {
		t.Errorf("after removing base: units = %d, want 1", n)
	}

	// A pool that cannot be resolved is reported; the rest is applied.
	bad := manager.PoolConfig{Template: "bad", Image: "no-such-image", Profile: "moderate", Size: 1}
	err := m.SetPools(ctx, []manager.PoolConfig{bad, base})
	if err == nil || !strings.Contains(err.Error(), "pool bad") || !strings.Contains(err.Error(), "no-such-image") {
		t.Errorf("SetPools with a bad image: %v, want an error naming the pool and image", err)
	}
	waitFor(t, "base pool back, small gone", func() bool { return poolsReady(m, map[string]int{"base": 1}) })
	if err := m.SetPools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := units(t, drv); n != 0 || len(m.PoolStats()) != 0 {
		t.Errorf("after removing every pool: units = %d, pools %+v", n, m.PoolStats())
	}
}

func TestTemplatePoolIsItsOwn(t *testing.T) {
	m, _, _ := newAuditedManager(t)
	ctx := context.Background()
	dir := testenv.TempDir(t)
	marker := filepath.Join(dir, "warm")
	web := manager.PoolConfig{Template: "web", Image: "base", Profile: "moderate", Size: 1,
		Env:    map[string]string{"GREETING": "hi"},
		Warmup: []string{"/bin/sh", "-c", "echo \"$GREETING\" >> " + marker}}
	plain := manager.PoolConfig{Template: "plain", Image: "base", Profile: "moderate", Size: 1}
	if err := m.SetPools(ctx, []manager.PoolConfig{web, plain}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both pools full", func() bool { return poolsReady(m, map[string]int{"web": 1, "plain": 1}) })
	if b, err := os.ReadFile(marker); err != nil || string(b) != "hi\n" {
		t.Fatalf("warmup output %q, %v: want the pool's env seen once", b, err)
	}

	// A sandbox of another template takes the shared pool, never web's.
	if _, err := m.Create(ctx, sandbox.Spec{Name: "other", Template: "other"}, ""); err != nil {
		t.Fatal(err)
	}
	sb, err := m.Create(ctx, sandbox.Spec{Name: "w", Template: "web", Env: map[string]string{"GREETING": "hi"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]uint64{}
	for _, p := range m.PoolStats() {
		claims[p.Template] = p.Claims
	}
	if claims["web"] != 1 || claims["plain"] != 1 {
		t.Errorf("claims %v: want one from each pool", claims)
	}
	res, err := m.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "echo $GREETING"})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "hi" {
		t.Errorf("env in the claimed sandbox: %v %v", res, err)
	}
}

func TestStartCommand(t *testing.T) {
	m, _, events := newAuditedManager(t)
	ctx := context.Background()
	dir := testenv.TempDir(t)
	marker := filepath.Join(dir, "started")
	_, err := m.Create(ctx, sandbox.Spec{Name: "ok", Template: "t", Env: map[string]string{"GREETING": "hello"}}, "",
		manager.WithStartCommand([]string{"/bin/sh", "-c", "echo \"$GREETING\" > " + marker + "; sleep 30"}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the start command's file", func() bool {
		b, _ := os.ReadFile(marker)
		return string(b) == "hello\n"
	})
	// A stop ends it with the container; the next start runs it again.
	if _, err := m.Stop(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the start command's file after a stop and start", func() bool {
		b, _ := os.ReadFile(marker)
		return string(b) == "hello\n"
	})

	cases := []struct {
		name, code, text string
		argv             []string
	}{
		{"exits", "3", "boom", []string{"/bin/sh", "-c", "echo boom >&2; exit 3"}},
		{"missing", "-1", "not found", []string{"no-such-command-paddock"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sb, err := m.Create(ctx, sandbox.Spec{Name: c.name, Template: "t"}, "", manager.WithStartCommand(c.argv))
			if err != nil {
				t.Fatalf("create must not fail with the start command: %v", err)
			}
			var ev audit.Event
			waitFor(t, "a start_command_failed event", func() bool {
				evs, _ := events.ListEvents(ctx, audit.Filter{Sandbox: c.name, Type: audit.StartCommandFailed})
				if len(evs) > 0 {
					ev = evs[0]
				}
				return len(evs) > 0
			})
			all := strings.Join([]string{toString(ev.Details["exit_code"]), toString(ev.Details["error"]), toString(ev.Details["output"])}, " ")
			if toString(ev.Details["exit_code"]) != c.code || !strings.Contains(all, c.text) || ev.Details["template"] != "t" {
				t.Errorf("event details %v: want exit_code %s and %q", ev.Details, c.code, c.text)
			}
			if got, err := m.Get(ctx, sb.ID); err != nil || got.State != sandbox.StateRunning {
				t.Errorf("sandbox after a failed start command: %v %v", got, err)
			}
		})
	}
}

func toString(v any) string { return fmt.Sprint(v) }
