package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
)

var _ agentrun.Store = (*Store)(nil)

// PutAgentRun implements agentrun.Store.
func (s *Store) PutAgentRun(ctx context.Context, r *agentrun.Run) error {
	rec, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO agent_runs(id, owner, session_id, sandbox, status, started_at, record)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, session_id = excluded.session_id, sandbox = excluded.sandbox,
			status = excluded.status, started_at = excluded.started_at, record = excluded.record`,
		r.ID, r.Owner, r.SessionID, r.Sandbox, r.Status, r.StartedAt.UnixNano(), string(rec))
	return err
}

// SetAgentRunEvents implements agentrun.Store.
func (s *Store) SetAgentRunEvents(ctx context.Context, id string, evs []json.RawMessage) error {
	if evs == nil {
		evs = []json.RawMessage{}
	}
	b, err := json.Marshal(evs)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE agent_runs SET events = ? WHERE id = ?`, string(b), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errdefs.NotFound("run %q not found", id)
	}
	return nil
}

// GetAgentRun implements agentrun.Store.
func (s *Store) GetAgentRun(ctx context.Context, id string) (*agentrun.Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT owner, sandbox, record FROM agent_runs WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	runs, err := scanAgentRuns(rows)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, errdefs.NotFound("run %q not found", id)
	}
	return &runs[0], nil
}

// AgentRunEvents implements agentrun.Store.
func (s *Store) AgentRunEvents(ctx context.Context, id string) ([]json.RawMessage, error) {
	var b string
	err := s.db.QueryRowContext(ctx, `SELECT events FROM agent_runs WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("run %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	evs := []json.RawMessage{}
	return evs, json.Unmarshal([]byte(b), &evs)
}

// ListAgentRuns implements agentrun.Store.
func (s *Store) ListAgentRuns(ctx context.Context, f agentrun.Filter) ([]agentrun.Run, error) {
	q, args := `SELECT owner, sandbox, record FROM agent_runs WHERE 1`, []any{}
	if f.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	if f.Session != "" {
		q += ` AND session_id = ?`
		args = append(args, f.Session)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY started_at DESC, id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	return scanAgentRuns(rows)
}

func scanAgentRuns(rows *sql.Rows) ([]agentrun.Run, error) {
	defer rows.Close()
	out := []agentrun.Run{}
	for rows.Next() {
		var r agentrun.Run
		var owner, sandbox, rec string
		if err := rows.Scan(&owner, &sandbox, &rec); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			return nil, err
		}
		r.Owner, r.Sandbox = owner, sandbox
		out = append(out, r)
	}
	return out, rows.Err()
}

// FailRunningAgentRuns implements agentrun.Store.
func (s *Store) FailRunningAgentRuns(ctx context.Context, msg string, at time.Time) (int, error) {
	n := 0
	err := inTx(ctx, s.db, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT owner, sandbox, record FROM agent_runs WHERE status = ?`, agentrun.StatusRunning)
		if err != nil {
			return err
		}
		runs, err := scanAgentRuns(rows)
		if err != nil {
			return err
		}
		for _, r := range runs {
			r.Status, r.Error, r.CompletedAt = agentrun.StatusError, msg, &at
			rec, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE agent_runs SET status = ?, record = ? WHERE id = ?`, r.Status, string(rec), r.ID); err != nil {
				return err
			}
		}
		n = len(runs)
		return nil
	})
	return n, err
}

// PutAgentSession implements agentrun.Store.
func (s *Store) PutAgentSession(ctx context.Context, ss *agentrun.Session) error {
	rec, err := json.Marshal(ss)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO agent_sessions(id, owner, status, created_at, record) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, status = excluded.status, created_at = excluded.created_at,
			record = excluded.record`,
		ss.ID, ss.Owner, ss.Status, ss.CreatedAt.UnixNano(), string(rec))
	return err
}

// GetAgentSession implements agentrun.Store.
func (s *Store) GetAgentSession(ctx context.Context, id string) (*agentrun.Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT owner, record FROM agent_sessions WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	out, err := scanAgentSessions(rows)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errdefs.NotFound("session %q not found", id)
	}
	return &out[0], nil
}

// ListAgentSessions implements agentrun.Store.
func (s *Store) ListAgentSessions(ctx context.Context, owner string, live bool, limit int) ([]agentrun.Session, error) {
	q, args := `SELECT owner, record FROM agent_sessions WHERE 1`, []any{}
	if owner != "" {
		q += ` AND owner = ?`
		args = append(args, owner)
	}
	if live {
		q += ` AND status IN (?, ?, ?)`
		args = append(args, agentrun.SessionInitializing, agentrun.SessionActive, agentrun.SessionRunning)
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanAgentSessions(rows)
}

func scanAgentSessions(rows *sql.Rows) ([]agentrun.Session, error) {
	defer rows.Close()
	out := []agentrun.Session{}
	for rows.Next() {
		var ss agentrun.Session
		var owner, rec string
		if err := rows.Scan(&owner, &rec); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(rec), &ss); err != nil {
			return nil, err
		}
		ss.Owner = owner
		out = append(out, ss)
	}
	return out, rows.Err()
}
