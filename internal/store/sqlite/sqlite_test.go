package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/sqlite"
	"github.com/paddock/paddock/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sandbox.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestReopenAndSharedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	a := open(t, path)
	now := time.Now().UTC()
	if err := a.CreateSandbox(ctx, &sandbox.Sandbox{ID: "i1", Name: "one", State: sandbox.StateRunning, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	b := open(t, path) // a second handle (another process would look the same): migrations are idempotent
	if got, err := b.GetSandbox(ctx, "one"); err != nil || got.ID != "i1" {
		t.Fatalf("second handle: %v %v", got, err)
	}
	a.Close()
	c := open(t, path)
	if l, err := c.ListSandboxes(ctx, sandbox.ListFilter{}); err != nil || len(l) != 1 {
		t.Fatalf("after reopen: %v %v", l, err)
	}
}

func TestRuns(t *testing.T) { storetest.RunRuns(t, open(t, filepath.Join(t.TempDir(), "p.db"))) }
