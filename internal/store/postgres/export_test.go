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

// QuotaRows lists the IDs of quota_reservations' rows in order.
func QuotaRows(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT id FROM quota_reservations ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
