package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.RunStore = (*Store)(nil)

// RecordRun implements sandbox.RunStore.
func (s *Store) RecordRun(ctx context.Context, r sandbox.Run) error {
	cmd, err := json.Marshal(r.Command)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO runs(sandbox, owner, command, exit_code, error, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Sandbox, r.Owner, string(cmd), r.ExitCode, r.Error, r.StartedAt.UnixNano(), r.FinishedAt.UnixNano())
	return err
}

// ListRuns implements sandbox.RunStore.
func (s *Store) ListRuns(ctx context.Context, owner string, limit int) ([]sandbox.Run, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, sandbox, owner, command, exit_code, error, started_at, finished_at FROM runs`
	args := []any{}
	if owner != "" {
		q += ` WHERE owner = ?`
		args = append(args, owner)
	}
	q += ` ORDER BY started_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []sandbox.Run{}
	for rows.Next() {
		var r sandbox.Run
		var cmd string
		var started, finished int64
		if err := rows.Scan(&r.ID, &r.Sandbox, &r.Owner, &cmd, &r.ExitCode, &r.Error, &started, &finished); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(cmd), &r.Command)
		r.StartedAt, r.FinishedAt = time.Unix(0, started).UTC(), time.Unix(0, finished).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
