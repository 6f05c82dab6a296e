package manager_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// events records what the manager publishes.
type events struct {
	mu  sync.Mutex
	evs []lifecycle.Event
}

func (e *events) Publish(_ context.Context, ev lifecycle.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

// types lists the types of sandbox id's events, in order.
func (e *events) types(id string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.evs {
		if ev.SandboxID == id {
			out = append(out, ev.Type)
		}
	}
	return out
}

// clockManager is a manager on the fake driver whose clock the test moves, with no reaper
// goroutine: the test runs reaper passes itself.
func clockManager(t *testing.T) (*manager.Manager, sandbox.Store, *events, func(time.Duration)) {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	store, evs := memory.New(), &events{}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: store, Images: images{},
		Reconcile: true, Now: now, Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m, store, evs, func(d time.Duration) { skew.Add(int64(d)) }
}

func stateOf(t *testing.T, s sandbox.Store, id string) *sandbox.Sandbox {
	t.Helper()
	sb, err := s.GetSandbox(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// TestTimeoutPausesAndRequestResumes: with on_expire pause (E2B's autoPause) a sandbox past
// its deadline is paused, not deleted; further reaper passes leave it paused; a request
// resumes it (autoResume) with a fresh deadline; and its events come in that order.
func TestTimeoutPausesAndRequestResumes(t *testing.T) {
	m, store, evs, advance := clockManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "auto", TTL: time.Hour, OnExpire: sandbox.ExpirePause, AutoResume: true}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	manager.ReapExpired(m, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StateRunning {
		t.Fatalf("before its deadline: %s", got)
	}
	advance(2 * time.Hour)
	manager.ReapExpired(m, ctx)
	manager.ReapExpired(m, ctx) // a paused sandbox is not reaped again
	if got := stateOf(t, store, sb.ID); got.State != sandbox.StatePaused {
		t.Fatalf("past its deadline: %s, want paused", got.State)
	}
	woke, err := m.WakeForRequest(ctx, stateOf(t, store, sb.ID))
	if err != nil || woke.State != sandbox.StateRunning {
		t.Fatalf("request: %+v %v", woke, err)
	}
	if !woke.ExpiresAt.After(time.Now().Add(2*time.Hour + 59*time.Minute)) {
		t.Errorf("resumed with deadline %s: want its TTL from the (moved) clock", woke.ExpiresAt)
	}
	manager.ReapExpired(m, ctx)
	if err := m.Delete(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{lifecycle.Created, lifecycle.Paused, lifecycle.Updated, lifecycle.Resumed, lifecycle.Killed}
	if got := evs.types(sb.ID); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	evs.mu.Lock()
	first := evs.evs[0]
	evs.mu.Unlock()
	if first.Owner != "alice" || first.Template != "base" || first.Execution == "" || len(first.ID) != 36 {
		t.Errorf("created event: %+v", first)
	}
}

// TestIdlePauses: a sandbox with an idle timeout pauses once nothing has used it for that
// long; a use restarts the count; without autoResume a request does not resume it.
func TestIdlePauses(t *testing.T) {
	m, store, evs, advance := clockManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "idle", IdleTimeout: 10 * time.Minute}, "")
	if err != nil {
		t.Fatal(err)
	}
	advance(6 * time.Minute)
	if _, err := m.Get(ctx, sb.ID); err != nil { // an API call is a use
		t.Fatal(err)
	}
	advance(6 * time.Minute)
	manager.ReapExpired(m, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StateRunning {
		t.Fatalf("6 minutes after its last use: %s, want running", got)
	}
	advance(5 * time.Minute)
	manager.ReapExpired(m, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StatePaused {
		t.Fatalf("11 minutes after its last use: %s, want paused", got)
	}
	if got, err := m.WakeForRequest(ctx, stateOf(t, store, sb.ID)); err != nil || got.State != sandbox.StatePaused {
		t.Errorf("request without autoResume: %+v %v; want it left paused", got, err)
	}
	if got, want := evs.types(sb.ID), []string{lifecycle.Created, lifecycle.Paused}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestAutoResumeNeedsAPause refuses autoResume on a sandbox that never pauses by itself.
func TestAutoResumeNeedsAPause(t *testing.T) {
	m, _, _, _ := clockManager(t)
	if _, err := m.Create(context.Background(), sandbox.Spec{Name: "x", AutoResume: true}, ""); err == nil {
		t.Error("autoResume without autoPause or an idle timeout was accepted")
	}
}

// TestTimeoutChangesAreUpdatedEvents: deadline changes publish updated events with E2B's
// set_timeout, and a stop and start are paused and resumed from disk.
func TestTimeoutChangesAreUpdatedEvents(t *testing.T) {
	m, _, evs, _ := clockManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "upd", TTL: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := m.SetExpiry(ctx, sb.ID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stop(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{lifecycle.Created, lifecycle.Updated, lifecycle.Paused, lifecycle.Resumed}
	if got := evs.types(sb.ID); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	evs.mu.Lock()
	defer evs.mu.Unlock()
	if evs.evs[1].Data["set_timeout"] != "2030-01-02T03:04:05Z" {
		t.Errorf("updated event data: %v", evs.evs[1].Data)
	}
	if evs.evs[0].Execution == evs.evs[3].Execution {
		t.Error("a boot from disk kept the execution ID")
	}
}

// TestServingIsNotIdle: a sandbox serving a request (a long stream, a transfer, a command) is
// not idle however long it lasts; its idle time counts from the request's end.
func TestServingIsNotIdle(t *testing.T) {
	m, store, _, advance := clockManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "busy", IdleTimeout: 10 * time.Minute}, "")
	if err != nil {
		t.Fatal(err)
	}
	done := m.Serving(ctx, sb.ID)
	advance(time.Hour)
	manager.ReapExpired(m, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StateRunning {
		t.Fatalf("an hour into a request: %s, want running", got)
	}
	done()
	advance(9 * time.Minute)
	manager.ReapExpired(m, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StateRunning {
		t.Fatalf("9 minutes after the request ended: %s, want running", got)
	}
	advance(2 * time.Minute)
	manager.ReapExpired(m, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StatePaused {
		t.Fatalf("11 minutes after the request ended: %s, want paused", got)
	}
}

// TestIdleSeesOtherReplicas: with replicas sharing activity through the store, a sandbox used
// only through a follower is not idle for the replica that reaps (without sharing it is
// paused 12 minutes after its creation, while in use); a request in flight on the follower
// keeps it busy however long it lasts; once nobody uses it, it pauses.
func TestIdleSeesOtherReplicas(t *testing.T) {
	dir := testenv.TempDir(t)
	store := memory.New()
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	advance := func(d time.Duration) { skew.Add(int64(d)) }
	replica := func() *manager.Manager {
		drv, err := fake.NewShared(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: store, Images: images{},
			Now: now, Activity: store, ActivityFlush: time.Hour, SharedDriver: true}) // the test flushes
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close(context.Background()) })
		return m
	}
	leader, follower := replica(), replica()
	ctx := context.Background()
	sb, err := leader.Create(ctx, sandbox.Spec{Name: "shared", IdleTimeout: 10 * time.Minute}, "")
	if err != nil {
		t.Fatal(err)
	}

	// Used through the follower 6 and 12 minutes in: the leader never saw those uses itself.
	for range 2 {
		advance(6 * time.Minute)
		if _, err := follower.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "true"}); err != nil {
			t.Fatal(err)
		}
		manager.FlushActivity(follower, ctx)
		manager.ReapExpired(leader, ctx)
		if got := stateOf(t, store, sb.ID).State; got != sandbox.StateRunning {
			t.Fatalf("%s after creation, used through the follower 6 minutes ago: %s, want running", time.Duration(skew.Load()).Round(time.Minute), got)
		}
	}

	// A long request through the follower: busy for the leader while it lasts.
	done := follower.Serving(ctx, sb.ID)
	advance(time.Hour)
	manager.FlushActivity(follower, ctx)
	manager.ReapExpired(leader, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StateRunning {
		t.Fatalf("an hour into a request served by the follower: %s, want running", got)
	}
	done()
	manager.FlushActivity(follower, ctx)

	advance(11 * time.Minute)
	manager.ReapExpired(leader, ctx)
	if got := stateOf(t, store, sb.ID).State; got != sandbox.StatePaused {
		t.Fatalf("11 minutes after the last use anywhere: %s, want paused", got)
	}
}
