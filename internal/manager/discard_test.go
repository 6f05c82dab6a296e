package manager_test

import (
	"context"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestDiscardAndStopAll(t *testing.T) {
	m, drv, _ := newManager(t)
	ctx := context.Background()
	gone, err := m.Create(ctx, sandbox.Spec{Name: "gone"}, "")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := m.Create(ctx, sandbox.Spec{Name: "kept"}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Delete(ctx, kept.ID) })
	m.Discard(ctx, gone.ID)
	m.StopAll(ctx) // waits for the discard first
	if _, err := m.Get(ctx, gone.ID); !errdefs.IsNotFound(err) {
		t.Errorf("discarded sandbox: %v, want it deleted", err)
	}
	units, err := drv.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.ID == gone.ID {
			t.Errorf("the discarded sandbox's unit is still there: %+v", u)
		}
	}
	if sb, err := m.Get(ctx, kept.ID); err != nil || sb.State != sandbox.StateStopped {
		t.Errorf("after StopAll: %+v, %v; want stopped", sb, err)
	}
}
