package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lifecycle"
)

var _ lifecycle.Store = (*Store)(nil)

// AppendLifecycleEvent implements lifecycle.Store.
func (s *Store) AppendLifecycleEvent(ctx context.Context, ev *lifecycle.Event) error {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return errdefs.InvalidArgument("event data cannot be stored: %v", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO lifecycle_events
		(id, type, sandbox_id, owner, template, build, execution, data, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.Type, ev.SandboxID, ev.Owner, ev.Template, ev.Build, ev.Execution, string(data), ev.Time.UnixNano())
	if err != nil {
		return fmt.Errorf("append lifecycle event: %w", err)
	}
	ev.Seq, err = res.LastInsertId()
	return err
}

// ListLifecycleEvents implements lifecycle.Store.
func (s *Store) ListLifecycleEvents(ctx context.Context, f lifecycle.Filter) ([]lifecycle.Event, error) {
	q := `SELECT seq, id, type, sandbox_id, owner, template, build, execution, data, ts FROM lifecycle_events WHERE 1=1`
	var args []any
	if !f.All {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	if f.SandboxID != "" {
		q += ` AND sandbox_id = ?`
		args = append(args, f.SandboxID)
	}
	q += map[bool]string{true: ` ORDER BY seq ASC`, false: ` ORDER BY seq DESC`}[f.Asc] + ` LIMIT ? OFFSET ?`
	args = append(args, limitOf(f.Limit), max(f.Offset, 0))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list lifecycle events: %w", err)
	}
	defer rows.Close()
	out := []lifecycle.Event{}
	for rows.Next() {
		var ev lifecycle.Event
		var data string
		var ts int64
		if err := rows.Scan(&ev.Seq, &ev.ID, &ev.Type, &ev.SandboxID, &ev.Owner, &ev.Template, &ev.Build, &ev.Execution, &data, &ts); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(data), &ev.Data)
		ev.Time = time.Unix(0, ts).UTC()
		out = append(out, ev)
	}
	return out, rows.Err()
}

// DeleteLifecycleEventsBefore implements lifecycle.Store.
func (s *Store) DeleteLifecycleEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM lifecycle_events WHERE ts < ?`, t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("prune lifecycle events: %w", err)
	}
	return res.RowsAffected()
}

func limitOf(n int) int {
	if n <= 0 {
		return 10
	}
	return n
}

// CreateWebhook implements lifecycle.Store.
func (s *Store) CreateWebhook(ctx context.Context, w *lifecycle.Webhook) error {
	evs, _ := json.Marshal(w.Events)
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhooks (id, owner, name, url, enabled, events, secret, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, w.ID, w.Owner, w.Name, w.URL, w.Enabled, string(evs), w.Secret, w.CreatedAt.UnixNano())
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("webhook %q exists", w.ID)
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

const webhookCols = `id, owner, name, url, enabled, events, secret, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (*lifecycle.Webhook, error) {
	var w lifecycle.Webhook
	var evs string
	var created int64
	if err := row.Scan(&w.ID, &w.Owner, &w.Name, &w.URL, &w.Enabled, &evs, &w.Secret, &created); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(evs), &w.Events)
	w.CreatedAt = time.Unix(0, created).UTC()
	return &w, nil
}

// GetWebhook implements lifecycle.Store.
func (s *Store) GetWebhook(ctx context.Context, id string) (*lifecycle.Webhook, error) {
	w, err := scanWebhook(s.db.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("webhook %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", err)
	}
	return w, nil
}

// ListWebhooks implements lifecycle.Store.
func (s *Store) ListWebhooks(ctx context.Context, owner string, all bool) ([]*lifecycle.Webhook, error) {
	q, args := `SELECT `+webhookCols+` FROM webhooks`, []any{}
	if !all {
		q += ` WHERE owner = ?`
		args = append(args, owner)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []*lifecycle.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UpdateWebhook implements lifecycle.Store.
func (s *Store) UpdateWebhook(ctx context.Context, w *lifecycle.Webhook) error {
	evs, _ := json.Marshal(w.Events)
	res, err := s.db.ExecContext(ctx, `UPDATE webhooks SET name = ?, url = ?, enabled = ?, events = ?, secret = ? WHERE id = ?`,
		w.Name, w.URL, w.Enabled, string(evs), w.Secret, w.ID)
	return affectedOne(res, err, w.ID)
}

// DeleteWebhook implements lifecycle.Store.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	return affectedOne(res, err, id)
}

func affectedOne(res sql.Result, err error, id string) error {
	if err != nil {
		return fmt.Errorf("webhook %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errdefs.NotFound("webhook %q not found", id)
	}
	return nil
}
