package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.RunStore = (*Store)(nil)

// RecordRun implements sandbox.RunStore.
func (s *Store) RecordRun(ctx context.Context, r sandbox.Run) error {
	cmd, err := json.Marshal(r.Command)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO runs (sandbox, owner, command, exit_code, error, started_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.Sandbox, r.Owner, string(cmd), r.ExitCode, r.Error, r.StartedAt, r.FinishedAt)
	if err != nil {
		return fmt.Errorf("record run: %w", classify(err))
	}
	return nil
}

// ListRuns implements sandbox.RunStore.
func (s *Store) ListRuns(ctx context.Context, owner string, limit int) ([]sandbox.Run, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, sandbox, owner, command, exit_code, error, started_at, finished_at
		FROM runs WHERE $1 = '' OR owner = $1 ORDER BY started_at DESC, id DESC LIMIT $2`, owner, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", classify(err))
	}
	out := []sandbox.Run{}
	var r sandbox.Run
	var cmd []byte
	var started, finished time.Time
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Sandbox, &r.Owner, &cmd, &r.ExitCode, &r.Error, &started, &finished}, func() error {
		run := r
		run.Command = nil
		_ = json.Unmarshal(cmd, &run.Command)
		run.StartedAt, run.FinishedAt = utc(started), utc(finished)
		out = append(out, run)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", classify(err))
	}
	return out, nil
}
