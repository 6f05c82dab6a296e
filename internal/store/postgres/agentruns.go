package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/errdefs"
)

var _ agentrun.Store = (*Store)(nil)

// PutAgentRun implements agentrun.Store: it inserts or replaces the run, keeping its events.
func (s *Store) PutAgentRun(ctx context.Context, r *agentrun.Run) error {
	rec, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO agent_runs (id, owner, session_id, sandbox, status, started_at, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, session_id = excluded.session_id, sandbox = excluded.sandbox,
			status = excluded.status, started_at = excluded.started_at, record = excluded.record`,
		r.ID, r.Owner, r.SessionID, r.Sandbox, r.Status, r.StartedAt, string(rec))
	if err != nil {
		return fmt.Errorf("put agent run %s: %w", r.ID, classify(err))
	}
	return nil
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
	tag, err := s.pool.Exec(ctx, `UPDATE agent_runs SET events = $2 WHERE id = $1`, id, string(b))
	if err != nil {
		return fmt.Errorf("set events of run %s: %w", id, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return errdefs.NotFound("run %q not found", id)
	}
	return nil
}

// GetAgentRun implements agentrun.Store.
func (s *Store) GetAgentRun(ctx context.Context, id string) (*agentrun.Run, error) {
	rows, err := s.pool.Query(ctx, `SELECT owner, sandbox, record FROM agent_runs WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, classify(err))
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
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT events FROM agent_runs WHERE id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("run %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("events of run %s: %w", id, classify(err))
	}
	evs := []json.RawMessage{}
	return evs, json.Unmarshal(b, &evs)
}

// ListAgentRuns implements agentrun.Store: newest first.
func (s *Store) ListAgentRuns(ctx context.Context, f agentrun.Filter) ([]agentrun.Run, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT owner, sandbox, record FROM agent_runs
		WHERE ($1 = '' OR owner = $1) AND ($2 = '' OR session_id = $2)
		ORDER BY started_at DESC, id DESC LIMIT $3`, f.Owner, f.Session, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list agent runs: %w", classify(err))
	}
	return scanAgentRuns(rows)
}

func scanAgentRuns(rows pgx.Rows) ([]agentrun.Run, error) {
	out := []agentrun.Run{}
	var owner, sandbox string
	var rec []byte
	_, err := pgx.ForEachRow(rows, []any{&owner, &sandbox, &rec}, func() error {
		var r agentrun.Run
		if err := json.Unmarshal(rec, &r); err != nil {
			return err
		}
		r.Owner, r.Sandbox = owner, sandbox
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read agent runs: %w", classify(err))
	}
	return out, nil
}

// FailRunningAgentRuns implements agentrun.Store, in one transaction whose row locks keep a
// concurrent PutAgentRun of the same runs from being lost.
func (s *Store) FailRunningAgentRuns(ctx context.Context, msg string, at time.Time) (int, error) {
	n := 0
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT owner, sandbox, record FROM agent_runs WHERE status = $1 FOR UPDATE`, agentrun.StatusRunning)
		if err != nil {
			return err
		}
		runs, err := scanAgentRuns(rows)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, r := range runs {
			r.Status, r.Error, r.CompletedAt = agentrun.StatusError, msg, &at
			rec, err := json.Marshal(r)
			if err != nil {
				return err
			}
			b.Queue(`UPDATE agent_runs SET status = $2, record = $3 WHERE id = $1`, r.ID, r.Status, string(rec))
		}
		n = len(runs)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("fail running agent runs: %w", classify(err))
	}
	return n, nil
}

// PutAgentSession implements agentrun.Store.
func (s *Store) PutAgentSession(ctx context.Context, ss *agentrun.Session) error {
	rec, err := json.Marshal(ss)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO agent_sessions (id, owner, status, created_at, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, status = excluded.status, created_at = excluded.created_at,
			record = excluded.record`,
		ss.ID, ss.Owner, ss.Status, ss.CreatedAt, string(rec))
	if err != nil {
		return fmt.Errorf("put agent session %s: %w", ss.ID, classify(err))
	}
	return nil
}

// GetAgentSession implements agentrun.Store.
func (s *Store) GetAgentSession(ctx context.Context, id string) (*agentrun.Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT owner, record FROM agent_sessions WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get session %s: %w", id, classify(err))
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

// ListAgentSessions implements agentrun.Store: newest first; live keeps the sessions that
// have not ended.
func (s *Store) ListAgentSessions(ctx context.Context, owner string, live bool, limit int) ([]agentrun.Session, error) {
	statuses := []string{}
	if live {
		statuses = []string{agentrun.SessionInitializing, agentrun.SessionActive, agentrun.SessionRunning}
	}
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT owner, record FROM agent_sessions
		WHERE ($1 = '' OR owner = $1) AND (cardinality($2::text[]) = 0 OR status = ANY($2))
		ORDER BY created_at DESC, id DESC LIMIT $3`, owner, statuses, lim)
	if err != nil {
		return nil, fmt.Errorf("list agent sessions: %w", classify(err))
	}
	return scanAgentSessions(rows)
}

func scanAgentSessions(rows pgx.Rows) ([]agentrun.Session, error) {
	out := []agentrun.Session{}
	var owner string
	var rec []byte
	_, err := pgx.ForEachRow(rows, []any{&owner, &rec}, func() error {
		var ss agentrun.Session
		if err := json.Unmarshal(rec, &ss); err != nil {
			return err
		}
		ss.Owner = owner
		out = append(out, ss)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read agent sessions: %w", classify(err))
	}
	return out, nil
}
