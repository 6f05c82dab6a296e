package postgres

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

func openT(t *testing.T, rawURL string) *Store {
	t.Helper()
	s, err := Open(context.Background(), rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrations(t *testing.T) {
	srv := pgtest.Start(t)
	t.Run("Idempotent", func(t *testing.T) {
		db := srv.NewSchema(t)
		for i := range 3 {
			if got := AppliedVersions(t, openT(t, db)); !reflect.DeepEqual(got, KnownVersions()) {
				t.Fatalf("open %d: versions %v, want %v", i+1, got, KnownVersions())
			}
		}
	})
	t.Run("NewerSchemaIsRefused", func(t *testing.T) {
		db := srv.NewSchema(t)
		s := openT(t, db)
		if _, err := s.pool.Exec(context.Background(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(context.Background(), db)
		if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "run a newer paddock") {
			t.Errorf("open of a newer schema: %v, want a failed-precondition error that says what to do", err)
		}
	})
	t.Run("FailedMigrationChangesNothing", func(t *testing.T) {
		db := srv.NewSchema(t)
		saved := migrations
		t.Cleanup(func() { migrations = saved })
		migrations = append(append([]string{}, saved...), `CREATE TABLE half_done (x int); SELECT 1/0;`)
		if _, err := Open(context.Background(), db); err == nil {
			t.Fatal("a failing migration did not fail Open")
		}
		migrations = saved
		s := openT(t, db)
		var n int
		if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("the failed migration left its table (%d, %v)", n, err)
		}
		if got := AppliedVersions(t, s); !reflect.DeepEqual(got, KnownVersions()) {
			t.Errorf("versions %v, want %v", got, KnownVersions())
		}
	})
}
