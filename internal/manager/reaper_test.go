package manager_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// TestReaperLeavesPausedSandboxes moves the clock past two sandboxes' deadlines: the running
// one is deleted, the paused one is kept (a paused sandbox does not time out) and is reaped
// only once it runs again with its old deadline.
func TestReaperLeavesPausedSandboxes(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{},
		Reconcile: true, Now: now, ReapInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	ctx := context.Background()
	running, err := m.Create(ctx, sandbox.Spec{Name: "running", TTL: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	paused, err := m.Create(ctx, sandbox.Spec{Name: "paused", TTL: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Pause(ctx, paused.ID); err != nil {
		t.Fatal(err)
	}
	skew.Store(int64(2 * time.Hour))
	waitFor(t, "the running sandbox to be reaped", func() bool {
		_, err := m.Get(ctx, running.ID)
		return errdefs.IsNotFound(err)
	})
	// Several reaper rounds have passed the paused sandbox by now.
	time.Sleep(100 * time.Millisecond)
	sb, err := m.Get(ctx, paused.ID)
	if err != nil || sb.State != sandbox.StatePaused {
		t.Fatalf("paused sandbox after its deadline: %+v, %v; want it kept, paused", sb, err)
	}
	// Resumed without a new deadline, the old one applies again.
	if _, err := m.Resume(ctx, paused.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resumed sandbox to be reaped", func() bool {
		_, err := m.Get(ctx, paused.ID)
		return errdefs.IsNotFound(err)
	})
}
