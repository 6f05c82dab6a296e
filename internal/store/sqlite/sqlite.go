// Package sqlite is the default sandbox.Store: one SQLite file (pure Go, modernc.org/sqlite)
// in WAL mode with versioned migrations.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Store implements sandbox.Store. Safe for concurrent use.
type Store struct {
	db *sql.DB
}

var _ sandbox.Store = (*Store)(nil)

// migrations are applied in order, each once, each in its own transaction. Append only.
var migrations = []string{
	`CREATE TABLE sandboxes (
		id          TEXT PRIMARY KEY,
		name        TEXT NOT NULL UNIQUE,
		owner       TEXT NOT NULL DEFAULT '',
		state       TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL,
		started_at  INTEGER,
		expires_at  INTEGER,
		record      TEXT NOT NULL
	);
	CREATE INDEX sandboxes_expires ON sandboxes(expires_at) WHERE expires_at IS NOT NULL;
	CREATE INDEX sandboxes_owner ON sandboxes(owner);`,
	`CREATE TABLE events (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		ts         INTEGER NOT NULL,
		type       TEXT NOT NULL,
		sandbox    TEXT NOT NULL DEFAULT '',
		actor      TEXT NOT NULL DEFAULT '',
		request_id TEXT NOT NULL DEFAULT '',
		details    TEXT NOT NULL DEFAULT 'null'
	);
	CREATE INDEX events_ts ON events(ts);
	CREATE INDEX events_sandbox ON events(sandbox, ts);`,
	`CREATE TABLE runs (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		sandbox     TEXT NOT NULL,
		owner       TEXT NOT NULL DEFAULT '',
		command     TEXT NOT NULL,
		exit_code   INTEGER NOT NULL,
		error       TEXT NOT NULL DEFAULT '',
		started_at  INTEGER NOT NULL,
		finished_at INTEGER NOT NULL
	);
	CREATE INDEX runs_owner ON runs(owner, started_at);`,
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	// WAL + synchronous=NORMAL: a process crash (kill -9) loses nothing that was committed;
	// only a power loss can drop the last transactions.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	for i, m := range migrations {
		version := i + 1
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			tx.Rollback()
			return err
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, m); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", version, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, version, time.Now().Unix()); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close implements sandbox.Store.
func (s *Store) Close() error { return s.db.Close() }

func nullableTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

// CreateSandbox implements sandbox.Store.
func (s *Store) CreateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	rec, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sandboxes(id, name, owner, state, created_at, updated_at, started_at, expires_at, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sb.ID, sb.Name, sb.Owner, string(sb.State), sb.CreatedAt.UnixNano(),
		sb.UpdatedAt.UnixNano(), nullableTime(sb.StartedAt), nullableTime(sb.ExpiresAt), string(rec))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		if strings.Contains(err.Error(), "sandboxes.name") {
			return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
		}
		return errdefs.AlreadyExists("sandbox ID %q is taken", sb.ID)
	}
	return err
}

// GetSandbox implements sandbox.Store.
func (s *Store) GetSandbox(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	var rec string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM sandboxes WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1`,
		idOrName, idOrName, idOrName).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("sandbox %q not found", idOrName)
	}
	if err != nil {
		return nil, err
	}
	return decode(rec)
}

func decode(rec string) (*sandbox.Sandbox, error) {
	var sb sandbox.Sandbox
	if err := json.Unmarshal([]byte(rec), &sb); err != nil {
		return nil, fmt.Errorf("decode sandbox record: %w", err)
	}
	return &sb, nil
}

// ListSandboxes implements sandbox.Store.
func (s *Store) ListSandboxes(ctx context.Context, f sandbox.ListFilter) ([]*sandbox.Sandbox, error) {
	q := `SELECT record FROM sandboxes WHERE 1=1`
	var args []any
	if f.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	if len(f.States) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(f.States)-1) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	q += ` ORDER BY created_at, id`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*sandbox.Sandbox{}
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		sb, err := decode(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	return out, rows.Err()
}

// UpdateSandbox implements sandbox.Store.
func (s *Store) UpdateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	rec, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sandboxes SET name = ?, owner = ?, state = ?, updated_at = ?, started_at = ?,
		expires_at = ?, record = ? WHERE id = ?`, sb.Name, sb.Owner, string(sb.State), sb.UpdatedAt.UnixNano(),
		nullableTime(sb.StartedAt), nullableTime(sb.ExpiresAt), string(rec), sb.ID)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errdefs.NotFound("sandbox %q not found", sb.ID)
	}
	return nil
}

// DeleteSandbox implements sandbox.Store.
func (s *Store) DeleteSandbox(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sandboxes WHERE id = ?`, id)
	return err
}
