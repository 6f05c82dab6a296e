package manager_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestWake brings back a sandbox from each state with a deadline at least d away, and
// never moves a later deadline earlier.
func TestWake(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		to         func(id string) error
		keepMemory bool
	}{
		{"running", func(string) error { return nil }, true},
		{"paused", func(id string) error { _, err := m.Pause(ctx, id); return err }, true},
		{"paused-cold", func(id string) error { _, err := m.Pause(ctx, id); return err }, false},
		{"stopped", func(id string) error { _, err := m.Stop(ctx, id); return err }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb, err := m.Create(ctx, sandbox.Spec{Name: "wake-" + tc.name, TTL: time.Minute}, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Delete(ctx, sb.ID) })
			if err := tc.to(sb.ID); err != nil {
				t.Fatal(err)
			}
			woke, err := m.Wake(ctx, sb.ID, time.Hour, tc.keepMemory)
			if err != nil {
				t.Fatal(err)
			}
			if woke.State != sandbox.StateRunning || woke.ExpiresAt == nil || time.Until(*woke.ExpiresAt) < 59*time.Minute {
				t.Fatalf("woke: %s, expires %v; want running, an hour away", woke.State, woke.ExpiresAt)
			}
			res, err := m.Exec(ctx, sb.ID, manager.ExecRequest{Command: []string{"true"}})
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exec after wake: %+v, %v", res, err)
			}
			// A shorter timeout leaves the later deadline alone.
			again, err := m.Wake(ctx, sb.ID, time.Second, true)
			if err != nil || !again.ExpiresAt.Equal(*woke.ExpiresAt) {
				t.Errorf("wake with a shorter timeout moved the deadline: %v -> %v (%v)", woke.ExpiresAt, again.ExpiresAt, err)
			}
		})
	}
	if _, err := m.Wake(ctx, "nope", time.Minute, true); !errdefs.IsNotFound(err) {
		t.Errorf("wake of an unknown sandbox: %v, want not found", err)
	}
	if _, err := m.Wake(ctx, "wake-running", 0, true); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("wake with no timeout: %v, want invalid argument", err)
	}
}

// TestWakeConcurrent wakes one paused sandbox from many goroutines: each answer is running,
// and it was resumed once (a second resume of a running sandbox would fail).
func TestWakeConcurrent(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "wake-many"}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Delete(ctx, sb.ID) })
	if _, err := m.Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			got, err := m.Wake(ctx, sb.ID, time.Minute, true)
			if err == nil && got.State != sandbox.StateRunning {
				err = errdefs.FailedPrecondition("answered %s", got.State)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("wake %d: %v", i, err)
		}
	}
}

func TestKeepUntilOnlyExtends(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "keep", TTL: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Delete(ctx, sb.ID) })
	got, err := m.KeepUntil(ctx, sb.ID, time.Now().Add(time.Minute))
	if err != nil || !got.ExpiresAt.Equal(*sb.ExpiresAt) {
		t.Errorf("an earlier deadline moved it: %v -> %v (%v)", sb.ExpiresAt, got.ExpiresAt, err)
	}
	later := time.Now().Add(2 * time.Hour)
	if got, err = m.KeepUntil(ctx, sb.ID, later); err != nil || !got.ExpiresAt.Equal(later.UTC()) {
		t.Errorf("a later deadline: %v, %v; want %v", got.ExpiresAt, err, later)
	}
}
