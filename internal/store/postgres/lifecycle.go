package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	err = s.pool.QueryRow(ctx, `INSERT INTO lifecycle_events (id, type, sandbox_id, owner, template, build, execution, data, ts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`,
		ev.ID, ev.Type, ev.SandboxID, ev.Owner, ev.Template, ev.Build, ev.Execution, string(data), ev.Time).Scan(&ev.Seq)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("lifecycle event %q exists", ev.ID)
	}
	if err != nil {
		return fmt.Errorf("append lifecycle event: %w", classify(err))
	}
	return nil
}

// ListLifecycleEvents implements lifecycle.Store.
func (s *Store) ListLifecycleEvents(ctx context.Context, f lifecycle.Filter) ([]lifecycle.Event, error) {
	q, args := `SELECT seq, id, type, sandbox_id, owner, template, build, execution, data, ts FROM lifecycle_events WHERE true`, []any{}
	if !f.All {
		args = append(args, f.Owner)
		q += fmt.Sprintf(` AND owner = $%d`, len(args))
	}
	if f.SandboxID != "" {
		args = append(args, f.SandboxID)
		q += fmt.Sprintf(` AND sandbox_id = $%d`, len(args))
	}
	order := ` ORDER BY seq DESC`
	if f.Asc {
		order = ` ORDER BY seq ASC`
	}
	args = append(args, limitOf(f.Limit), max(f.Offset, 0))
	rows, err := s.pool.Query(ctx, q+order+fmt.Sprintf(` LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list lifecycle events: %w", classify(err))
	}
	out := []lifecycle.Event{}
	var ev lifecycle.Event
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&ev.Seq, &ev.ID, &ev.Type, &ev.SandboxID, &ev.Owner, &ev.Template, &ev.Build,
		&ev.Execution, &data, &ev.Time}, func() error {
		e := ev
		e.Time, e.Data = utc(ev.Time), nil
		_ = json.Unmarshal(data, &e.Data)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list lifecycle events: %w", classify(err))
	}
	return out, nil
}

// DeleteLifecycleEventsBefore implements lifecycle.Store.
func (s *Store) DeleteLifecycleEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM lifecycle_events WHERE ts < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("prune lifecycle events: %w", classify(err))
	}
	return tag.RowsAffected(), nil
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
	_, err := s.pool.Exec(ctx, `INSERT INTO webhooks (id, owner, name, url, enabled, events, secret, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, w.ID, w.Owner, w.Name, w.URL, w.Enabled, string(evs), w.Secret, w.CreatedAt)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("webhook %q exists", w.ID)
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", classify(err))
	}
	return nil
}

const webhookCols = `id, owner, name, url, enabled, events, secret, created_at`

func scanWebhook(row pgx.Row) (*lifecycle.Webhook, error) {
	var w lifecycle.Webhook
	var evs []byte
	if err := row.Scan(&w.ID, &w.Owner, &w.Name, &w.URL, &w.Enabled, &evs, &w.Secret, &w.CreatedAt); err != nil {
		return nil, err
	}
	_ = json.Unmarshal(evs, &w.Events)
	w.CreatedAt = utc(w.CreatedAt)
	return &w, nil
}

// GetWebhook implements lifecycle.Store.
func (s *Store) GetWebhook(ctx context.Context, id string) (*lifecycle.Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("webhook %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get webhook: %w", classify(err))
	}
	return w, nil
}

// ListWebhooks implements lifecycle.Store.
func (s *Store) ListWebhooks(ctx context.Context, owner string, all bool) ([]*lifecycle.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE $1 OR owner = $2
		ORDER BY created_at, id`, all, owner)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", classify(err))
	}
	defer rows.Close()
	out := []*lifecycle.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", classify(err))
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", classify(err))
	}
	return out, nil
}

// UpdateWebhook implements lifecycle.Store.
func (s *Store) UpdateWebhook(ctx context.Context, w *lifecycle.Webhook) error {
	evs, _ := json.Marshal(w.Events)
	tag, err := s.pool.Exec(ctx, `UPDATE webhooks SET name = $2, url = $3, enabled = $4, events = $5, secret = $6 WHERE id = $1`,
		w.ID, w.Name, w.URL, w.Enabled, string(evs), w.Secret)
	return affectedOne(tag, err, w.ID)
}

// DeleteWebhook implements lifecycle.Store.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	return affectedOne(tag, err, id)
}

func affectedOne(tag pgconn.CommandTag, err error, id string) error {
	if err != nil {
		return fmt.Errorf("webhook %s: %w", id, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return errdefs.NotFound("webhook %q not found", id)
	}
	return nil
}
