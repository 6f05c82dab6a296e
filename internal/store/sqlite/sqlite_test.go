package sqlite_test

import (
	"context"
	"errors"
	"github.com/paddock/paddock/internal/agentrun"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
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

func TestAccounts(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) account.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestLifecycle(t *testing.T) {
	storetest.RunLifecycle(t, func(t *testing.T) lifecycle.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestRuns(t *testing.T) { storetest.RunRuns(t, open(t, filepath.Join(t.TempDir(), "p.db"))) }

func rec(id, name string) *sandbox.Sandbox {
	at := time.Date(2025, 1, 2, 3, 4, 5, 678912000, time.UTC)
	return &sandbox.Sandbox{ID: id, Name: name, State: sandbox.StateRunning, CreatedAt: at, UpdatedAt: at,
		Spec: sandbox.Spec{Name: name, Env: map[string]string{"K": "v"}}}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	a := open(t, path)
	want := rec("i1", "one")
	if err := a.CreateSandbox(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := open(t, path).GetSandbox(ctx, "one")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening: %+v %v, want %+v", got, err, want)
	}
}

// TestTwoHandlesShareAFile opens one file twice, as two processes would, and checks that
// each handle sees the other's writes at once.
func TestTwoHandlesShareAFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	a, b := open(t, path), open(t, path)
	if err := a.CreateSandbox(ctx, rec("i1", "one")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetSandbox(ctx, "one"); err != nil || got.ID != "i1" {
		t.Fatalf("b reads a's create: %+v %v", got, err)
	}
	up := rec("i1", "one")
	up.State = sandbox.StateStopped
	if err := b.UpdateSandbox(ctx, up); err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetSandbox(ctx, "i1"); err != nil || got.State != sandbox.StateStopped {
		t.Fatalf("a reads b's update: %+v %v", got, err)
	}
	if err := a.CreateSandbox(ctx, rec("i2", "one")); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("a reuses a name b holds: %v", err)
	}
	if err := b.DeleteSandbox(ctx, "i1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetSandbox(ctx, "i1"); !errdefs.IsNotFound(err) {
		t.Errorf("a reads b's delete: %v", err)
	}
}

// TestConcurrentOpen opens a new file from several handles at once: the migrations race and
// every Open must still succeed.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := sqlite.Open(context.Background(), path)
			if err == nil {
				err = s.CreateSandbox(context.Background(), rec(string(rune('a'+i)), string(rune('a'+i))))
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	if l, err := open(t, path).ListSandboxes(context.Background(), sandbox.ListFilter{}); err != nil || len(l) != n {
		t.Errorf("listed %d (%v), want %d", len(l), err, n)
	}
}

func TestFilesArePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s := open(t, path)
	if err := s.CreateSandbox(context.Background(), rec("i1", "one")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v (%v), want mode 0600 (records hold guest tokens)", filepath.Base(p), fi.Mode(), err)
		}
	}
}

func TestPathWithURISyntax(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20e")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.db")
	s := open(t, path)
	if err := s.CreateSandbox(context.Background(), rec("i1", "one")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("database not at %q: %v", path, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "p.db" && e.Name() != "p.db-wal" && e.Name() != "p.db-shm" {
			t.Errorf("unexpected file %q next to the database", e.Name())
		}
	}
}

func TestSSHGrants(t *testing.T) {
	storetest.RunSSHGrants(t, func(t *testing.T) sshgate.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestEvents(t *testing.T) { storetest.RunEvents(t, open(t, filepath.Join(t.TempDir(), "p.db"))) }

func TestAgents(t *testing.T) {
	storetest.RunAgents(t, func(t *testing.T) agentrun.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestFleet(t *testing.T) {
	storetest.RunFleet(t, func(t *testing.T) fleet.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestSchedules(t *testing.T) {
	storetest.RunSchedules(t, func(t *testing.T) schedule.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}

func TestCredentials(t *testing.T) {
	storetest.RunCredentials(t, func(t *testing.T) credential.Store { return open(t, filepath.Join(t.TempDir(), "p.db")) })
}
