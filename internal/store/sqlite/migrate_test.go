package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func versions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	var want []int
	for i := range migrations {
		want = append(want, i+1)
	}
	for i := range 3 {
		if got := versions(t, openT(t, path)); !reflect.DeepEqual(got, want) {
			t.Fatalf("open %d: versions %v, want %v", i+1, got, want)
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s := openT(t, path)
	if _, err := s.db.Exec(`INSERT INTO schema_migrations(version, applied_at) VALUES (?, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(context.Background(), path); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("open of a newer schema: %v, want a failed-precondition error", err)
	}
}

func TestPragmas(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "p.db"))
	cases := map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "10000"}
	for pragma, want := range cases {
		t.Run(pragma, func(t *testing.T) {
			var got string
			if err := s.db.QueryRow(`PRAGMA ` + pragma).Scan(&got); err != nil || got != want {
				t.Errorf("%s = %q (%v), want %q", pragma, got, err, want)
			}
		})
	}
}

// TestGuestTokenBackfill upgrades a version-3 database holding a sandbox: migration 4 copies
// its guest token out of the record, so the token finds it afterwards.
func TestGuestTokenBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := apply(ctx, db, i+1, migrations[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := `{"id":"i1","name":"one","state":"running","guest_token":"secret-1"}`
	if _, err := db.Exec(`INSERT INTO sandboxes (id, name, state, created_at, updated_at, record) VALUES ('i1', 'one', 'running', 0, 0, ?)`, rec); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openT(t, path)
	got, err := s.ListSandboxes(ctx, sandbox.ListFilter{GuestToken: "secret-1"})
	if err != nil || len(got) != 1 || got[0].ID != "i1" {
		t.Fatalf("by token after the upgrade: %v, %v; want i1", got, err)
	}
	if got, err := s.ListSandboxes(ctx, sandbox.ListFilter{GuestToken: "other"}); err != nil || len(got) != 0 {
		t.Errorf("another token: %v, %v; want none", got, err)
	}
}
