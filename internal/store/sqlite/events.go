package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"github.com/paddock/paddock/internal/audit"
)

var _ audit.Store = (*Store)(nil)

// defaultEventLimit bounds a listing that asks for no limit.
const defaultEventLimit = 1000

// AppendEvents implements audit.Store: the events are committed (and so survive a crash of
// the process) before it returns.
func (s *Store) AppendEvents(ctx context.Context, evs ...audit.Event) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, ev := range evs {
		details, err := json.Marshal(ev.Details)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events(ts, type, sandbox, actor, request_id, user_id, user_email, key_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ev.Time.UnixNano(), ev.Type, ev.Sandbox, ev.Actor, ev.RequestID, ev.UserID, ev.UserEmail, ev.KeyID, string(details)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ListEvents implements audit.Store.
func (s *Store) ListEvents(ctx context.Context, f audit.Filter) ([]audit.Event, error) {
	q := `SELECT id, ts, type, sandbox, actor, request_id, user_id, user_email, key_id, details FROM events WHERE 1=1`
	var args []any
	if f.Sandbox != "" {
		q += ` AND sandbox = ?`
		args = append(args, f.Sandbox)
	}
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.Scope != nil {
		// One parameter however many sandboxes the user sees (SQLite bounds the number of
		// parameters of a statement).
		names, err := json.Marshal(f.Scope.Sandboxes)
		if err != nil {
			return nil, err
		}
		q += ` AND ((user_id != '' AND user_id = ?) OR (sandbox != '' AND sandbox IN (SELECT value FROM json_each(?))))`
		args = append(args, f.Scope.UserID, string(names))
	}
	if !f.Since.IsZero() {
		q += ` AND ts >= ?`
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		q += ` AND ts < ?`
		args = append(args, f.Until.UnixNano())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultEventLimit
	}
	q += ` ORDER BY ts, id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []audit.Event{}
	for rows.Next() {
		var ev audit.Event
		var ts int64
		var details string
		if err := rows.Scan(&ev.ID, &ts, &ev.Type, &ev.Sandbox, &ev.Actor, &ev.RequestID, &ev.UserID, &ev.UserEmail, &ev.KeyID, &details); err != nil {
			return nil, err
		}
		ev.Time = time.Unix(0, ts).UTC()
		_ = json.Unmarshal([]byte(details), &ev.Details)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// DeleteEventsBefore implements audit.Store.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE ts < ?`, t.UnixNano())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
