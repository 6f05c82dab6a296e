package manager_test

import (
	"context"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestGetRecentFollowsChanges reads a record through the cache by name and by ID around
// each kind of change the manager makes: the cache never answers the old record.
func TestGetRecentFollowsChanges(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "recent"}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, st sandbox.State) {
		t.Helper()
		for _, key := range []string{"recent", sb.ID} {
			got, err := m.GetRecent(ctx, key)
			if err != nil || got.State != st {
				t.Fatalf("%s: GetRecent(%s) = %v, %v; want %s", step, key, got, err, st)
			}
		}
	}
	want("created", sandbox.StateRunning)
	if _, err := m.Pause(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	want("paused", sandbox.StatePaused)
	if _, err := m.Stop(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	want("stopped", sandbox.StateStopped)
	if err := m.Delete(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"recent", sb.ID} {
		if _, err := m.GetRecent(ctx, key); !errdefs.IsNotFound(err) {
			t.Errorf("deleted: GetRecent(%s) = %v, want not found", key, err)
		}
	}
	// The name, free again, finds the new sandbox.
	again, err := m.Create(ctx, sandbox.Spec{Name: "recent"}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Delete(ctx, again.ID) })
	if got, err := m.GetRecent(ctx, "recent"); err != nil || got.ID != again.ID {
		t.Errorf("name reused: GetRecent = %v, %v; want %s", got, err, again.ID)
	}
}
