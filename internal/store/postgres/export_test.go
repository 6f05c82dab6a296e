package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// AppliedVersions lists schema_migrations' versions in order.
func AppliedVersions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// KnownVersions are the versions this binary's migrations bring a database to.
func KnownVersions() []int {
	var out []int
	for i := range migrations {
		out = append(out, i+1)
	}
	return out
}
