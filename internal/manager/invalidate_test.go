package manager_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// TestInvalidateDropsRecent: a record another replica changed behind this manager's back is
// answered from the cache until the bus says it changed, then read again.
func TestInvalidateDropsRecent(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	now := time.Now()
	bus := &invalidate.Local{}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: store, Images: images{}, Invalidate: bus,
		Now: func() time.Time { return now }}) // cached records never expire on their own
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	ctx := context.Background()
	sb, err := m.Create(ctx, sandbox.Spec{Name: "s"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetRecent(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	changed, err := store.GetSandbox(ctx, sb.ID)
	if err != nil {
		t.Fatal(err)
	}
	reason := func() string {
		got, err := m.GetRecent(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		return got.Reason
	}
	for i, id := range []string{sb.ID, invalidate.All} {
		// Another replica's change: straight to the store.
		changed.Reason = fmt.Sprintf("change %d", i)
		if err := store.UpdateSandbox(ctx, changed); err != nil {
			t.Fatal(err)
		}
		if got := reason(); got == changed.Reason {
			t.Fatalf("the cached record already has the change: the test cannot tell")
		}
		bus.Publish(invalidate.Sandbox, id)
		if got := reason(); got != changed.Reason {
			t.Fatalf("after an invalidation of %s, GetRecent's reason = %q, want %q", id, got, changed.Reason)
		}
	}
}
