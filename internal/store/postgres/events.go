package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/audit"
)

var _ audit.Store = (*Store)(nil)

// defaultEventLimit bounds a listing that asks for no limit.
const defaultEventLimit = 1000

// AppendEvents implements audit.Store: the events are committed, all or none, before it
// returns.
func (s *Store) AppendEvents(ctx context.Context, evs ...audit.Event) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, ev := range evs {
		details, err := json.Marshal(ev.Details)
		if err != nil {
			return fmt.Errorf("append events: %w", classify(err))
		}
		b.Queue(`INSERT INTO events (ts, type, sandbox, actor, request_id, user_id, user_email, key_id, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			ev.Time, ev.Type, ev.Sandbox, ev.Actor, ev.RequestID, ev.UserID, ev.UserEmail, ev.KeyID, string(details))
	}
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("append events: %w", classify(err))
	}
	return nil
}

// ListEvents implements audit.Store.
func (s *Store) ListEvents(ctx context.Context, f audit.Filter) ([]audit.Event, error) {
	q, args := `SELECT id, ts, type, sandbox, actor, request_id, user_id, user_email, key_id, details FROM events WHERE true`, []any{}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Sandbox != "" {
		q += ` AND sandbox = ` + arg(f.Sandbox)
	}
	if f.Type != "" {
		q += ` AND type = ` + arg(f.Type)
	}
	if f.Scope != nil {
		names := f.Scope.Sandboxes
		if names == nil {
			names = []string{}
		}
		q += ` AND ((user_id <> '' AND user_id = ` + arg(f.Scope.UserID) + `) OR (sandbox <> '' AND sandbox = ANY(` + arg(names) + `)))`
	}
	if !f.Since.IsZero() {
		q += ` AND ts >= ` + arg(f.Since)
	}
	if !f.Until.IsZero() {
		q += ` AND ts < ` + arg(f.Until)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultEventLimit
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY ts, id LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", classify(err))
	}
	out := []audit.Event{}
	var ev audit.Event
	var details []byte
	_, err = pgx.ForEachRow(rows, []any{&ev.ID, &ev.Time, &ev.Type, &ev.Sandbox, &ev.Actor, &ev.RequestID,
		&ev.UserID, &ev.UserEmail, &ev.KeyID, &details}, func() error {
		e := ev
		e.Time, e.Details = utc(ev.Time), nil
		_ = json.Unmarshal(details, &e.Details)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", classify(err))
	}
	return out, nil
}

// DeleteEventsBefore implements audit.Store.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE ts < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", classify(err))
	}
	return tag.RowsAffected(), nil
}
