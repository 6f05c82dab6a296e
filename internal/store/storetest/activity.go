package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// ActivityStore is a sandbox store that also shares sandboxes' last use between replicas.
type ActivityStore interface {
	sandbox.Store
	sandbox.ActivityStore
}

// RunActivity is the conformance suite of sandbox.ActivityStore; newStore returns an empty
// store.
func RunActivity(t *testing.T, newStore func(t *testing.T) ActivityStore) {
	t.Run("LaterWins", func(t *testing.T) { testActivityLaterWins(t, newStore(t)) })
	t.Run("UnknownAndDeleted", func(t *testing.T) { testActivityUnknown(t, newStore(t)) })
}

func testActivityLaterWins(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		must(t, "create", s.CreateSandbox(ctx, record(id, "sb-"+id, epoch)))
	}
	t1, t2 := epoch.Add(time.Minute), epoch.Add(2*time.Minute)
	must(t, "note", s.NoteActivity(ctx, map[string]time.Time{"a": t2, "b": t1}))
	// An earlier use (a replica that flushes late) never moves a later one back.
	must(t, "note", s.NoteActivity(ctx, map[string]time.Time{"a": t1, "b": t2}))
	must(t, "note nothing", s.NoteActivity(ctx, nil))
	got, err := s.LastActivity(ctx, []string{"a", "b", "c"})
	must(t, "last", err)
	if len(got) != 2 || !got["a"].Equal(t2) || !got["b"].Equal(t2) {
		t.Errorf("last activity %v, want a and b at %v and nothing for c", got, t2)
	}
	// Activity is not part of the record: an update made from an older read keeps it.
	sb, err := s.GetSandbox(ctx, "a")
	must(t, "get", err)
	sb.Reason = "updated"
	must(t, "update", s.UpdateSandbox(ctx, sb))
	if got, _ := s.LastActivity(ctx, []string{"a"}); !got["a"].Equal(t2) {
		t.Errorf("after an update: %v, want %v", got["a"], t2)
	}
}

func testActivityUnknown(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	must(t, "create", s.CreateSandbox(ctx, record("a", "sb-a", epoch)))
	must(t, "note", s.NoteActivity(ctx, map[string]time.Time{"a": epoch, "nope": epoch}))
	must(t, "delete", s.DeleteSandbox(ctx, "a"))
	must(t, "create again", s.CreateSandbox(ctx, record("a", "sb-a", epoch)))
	got, err := s.LastActivity(ctx, []string{"a", "nope"})
	must(t, "last", err)
	if len(got) != 0 {
		t.Errorf("last activity %v: want none (unknown ID; a deleted sandbox's use goes with it)", got)
	}
}
