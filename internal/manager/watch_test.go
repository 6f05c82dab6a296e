package manager_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// unwatched hides the fake driver's ExitWatcher: only the periodic pass can notice deaths.
type unwatched struct {
	sandbox.Driver
	sandbox.Pauser
}

// deathSetup is how a test's manager learns that a sandbox died.
type deathSetup struct {
	name     string
	watch    bool          // the driver reports exits (sandbox.ExitWatcher)
	interval time.Duration // the periodic pass (negative: none)
}

var deathSetups = []deathSetup{
	{"exit watch only", true, -1},
	{"periodic pass only", false, 20 * time.Millisecond},
}

// newWatchedManager is a manager on the fake driver with an audit trail, set up as s says.
func newWatchedManager(t *testing.T, s deathSetup, pools ...manager.PoolConfig) (*manager.Manager, *fake.Driver, *memory.Events) {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var d sandbox.Driver = drv
	if !s.watch {
		d = unwatched{drv, drv}
	}
	events := &memory.Events{}
	m, err := manager.New(context.Background(), manager.Config{Driver: d, Store: memory.New(), Images: images{},
		Pools: pools, Reconcile: true, ReconcileInterval: s.interval, Audit: &audit.Recorder{Store: events}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m, drv, events
}

// waitState polls until the sandbox is in state st (bounded) and returns it.
func waitState(t *testing.T, m *manager.Manager, id string, st sandbox.State) *sandbox.Sandbox {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		sb, err := m.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if sb.State == st {
			return sb
		}
	}
	sb, _ := m.Get(context.Background(), id)
	t.Fatalf("sandbox %s is %s (%s), want %s", id, sb.State, sb.Reason, st)
	return nil
}

// TestDeadSandboxFails kills sandboxes' inits behind the manager's back (running, paused, and
// a unit that vanished) and checks that each turns failed with a reason and an audit event,
// that exec then says why, and that start brings it back.
func TestDeadSandboxFails(t *testing.T) {
	kills := []struct {
		name   string
		pause  bool
		kill   func(d *fake.Driver, id string) error
		reason string
	}{
		{"init died", false, func(d *fake.Driver, id string) error { return d.Crash(id) }, manager.ReasonInitExited},
		{"paused init died", true, func(d *fake.Driver, id string) error { return d.Crash(id) }, manager.ReasonInitExited},
		{"unit vanished", false, func(d *fake.Driver, id string) error {
			return d.Delete(context.Background(), id)
		}, manager.ReasonUnitGone},
	}
	for _, s := range deathSetups {
		for _, k := range kills {
			if k.reason == manager.ReasonUnitGone && s.watch {
				continue // nothing exits to report: only the pass sees it
			}
			t.Run(s.name+"/"+k.name, func(t *testing.T) {
				m, drv, events := newWatchedManager(t, s)
				ctx := context.Background()
				sb, err := m.Create(ctx, sandbox.Spec{Name: "doomed"}, "")
				if err != nil {
					t.Fatal(err)
				}
				if k.pause {
					if _, err := m.Pause(ctx, sb.ID); err != nil {
						t.Fatal(err)
					}
				}
				if err := k.kill(drv, sb.ID); err != nil {
					t.Fatal(err)
				}
				got := waitState(t, m, sb.ID, sandbox.StateFailed)
				if got.Reason != k.reason {
					t.Errorf("reason = %q, want %q", got.Reason, k.reason)
				}
				evs, err := events.ListEvents(ctx, audit.Filter{Type: audit.SandboxFailed})
				if err != nil || len(evs) != 1 || evs[0].Sandbox != "doomed" || evs[0].Details["reason"] != k.reason {
					t.Errorf("sandbox_failed events = %+v, %v; want one for doomed with the reason", evs, err)
				}
				_, err = m.Exec(ctx, "doomed", manager.ExecRequest{Shell: "true"})
				if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), `"doomed" is failed: `+k.reason) {
					t.Errorf("exec in the failed sandbox: %v; want a failed precondition with the reason", err)
				}
				if k.reason == manager.ReasonUnitGone {
					return // nothing left to start
				}
				if _, err := m.Start(ctx, "doomed"); err != nil {
					t.Fatal(err)
				}
				if res, err := m.Exec(ctx, "doomed", manager.ExecRequest{Shell: "echo back"}); err != nil || string(res.Stdout) != "back\n" {
					t.Errorf("exec after start: %v %v", res, err)
				}
				// It is watched again: a second death is noticed too.
				if err := drv.Crash(sb.ID); err != nil {
					t.Fatal(err)
				}
				waitState(t, m, sb.ID, sandbox.StateFailed)
			})
		}
	}
}

// TestStopIsNotAFailure stops, restarts and deletes a sandbox while exits are watched and
// the pass runs often: none of it makes the sandbox failed or records a failure.
func TestStopIsNotAFailure(t *testing.T) {
	m, _, events := newWatchedManager(t, deathSetup{"both", true, time.Millisecond})
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		sb, err := m.Create(ctx, sandbox.Spec{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Stop(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Start(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := m.Get(ctx, sb.ID); err != nil || got.State != sandbox.StateRunning {
			t.Fatalf("after stop and start: %+v %v", got, err)
		}
		if err := m.Delete(ctx, sb.ID); err != nil {
			t.Fatal(err)
		}
	}
	if evs, _ := events.ListEvents(ctx, audit.Filter{Type: audit.SandboxFailed}); len(evs) != 0 {
		t.Errorf("stops were recorded as failures: %+v", evs)
	}
}

// TestDeadWarmSandboxIsReplaced kills an unclaimed pool sandbox's init: the pool drops and
// replaces it, and no user sees a record or an event of it.
func TestDeadWarmSandboxIsReplaced(t *testing.T) {
	for _, s := range deathSetups {
		t.Run(s.name, func(t *testing.T) {
			m, drv, events := newWatchedManager(t, s, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 1})
			ctx := context.Background()
			waitReady(t, m, 1)
			units, err := drv.List(ctx)
			if err != nil || len(units) != 1 {
				t.Fatalf("units = %+v, %v; want the warm sandbox", units, err)
			}
			dead := units[0].ID
			if err := drv.Crash(dead); err != nil {
				t.Fatal(err)
			}
			// Replaced: one warm unit again, running, and not the dead one (deleted).
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(2 * time.Millisecond) {
				units, err = drv.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(units) == 1 && units[0].ID != dead && units[0].State == sandbox.StateRunning {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("units = %+v; want one running replacement of %s", units, dead)
				}
			}
			waitReady(t, m, 1)
			sb, err := m.Create(ctx, sandbox.Spec{}, "")
			if err != nil {
				t.Fatal(err)
			}
			if sb.ID == dead {
				t.Fatal("the dead warm sandbox was handed out")
			}
			if res, err := m.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "echo ok"}); err != nil || string(res.Stdout) != "ok\n" {
				t.Errorf("exec in the claimed replacement: %v %v", res, err)
			}
			if evs, _ := events.ListEvents(ctx, audit.Filter{Type: audit.SandboxFailed}); len(evs) != 0 {
				t.Errorf("a warm sandbox's death was reported to users: %+v", evs)
			}
		})
	}
}

// TestFailedStaysFailedAcrossRestart restarts the manager over a failed sandbox: start-up
// reconciliation keeps it failed, with its reason, until someone starts it.
func TestFailedStaysFailedAcrossRestart(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	ctx := context.Background()
	open := func() *manager.Manager {
		m, err := manager.New(ctx, manager.Config{Driver: drv, Store: store, Images: images{}, Reconcile: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close(ctx) })
		return m
	}
	m := open()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "broken"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := drv.Crash(sb.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, m, sb.ID, sandbox.StateFailed)
	_ = m.Close(ctx)
	m = open()
	if got, err := m.Get(ctx, sb.ID); err != nil || got.State != sandbox.StateFailed || got.Reason != manager.ReasonInitExited {
		t.Fatalf("after a restart: %+v, %v; want still failed with its reason", got, err)
	}
	if _, err := m.Start(ctx, "broken"); err != nil {
		t.Fatal(err)
	}
	if res, err := m.Exec(ctx, "broken", manager.ExecRequest{Shell: "echo up"}); err != nil || string(res.Stdout) != "up\n" {
		t.Errorf("exec after start: %v %v", res, err)
	}
}
