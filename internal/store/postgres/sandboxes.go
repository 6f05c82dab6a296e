package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var (
	_ sandbox.Store         = (*Store)(nil)
	_ sandbox.ActivityStore = (*Store)(nil)
)

// CreateSandbox implements sandbox.Store.
func (s *Store) CreateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	rec, err := encode(sb)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sandboxes
		(id, name, owner, state, created_at, updated_at, started_at, expires_at, guest_token, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sb.ID, sb.Name, sb.Owner, string(sb.State), sb.CreatedAt, sb.UpdatedAt, sb.StartedAt, sb.ExpiresAt, sb.GuestToken, rec)
	if c, ok := violation(err, uniqueViolation); ok {
		if c == "sandboxes_name_key" {
			return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
		}
		return errdefs.AlreadyExists("sandbox ID %q is taken", sb.ID)
	}
	if err != nil {
		return fmt.Errorf("create sandbox %s: %w", sb.ID, classify(err))
	}
	return nil
}

// GetSandbox implements sandbox.Store. An ID match wins over a name match.
func (s *Store) GetSandbox(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	var rec []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM sandboxes WHERE id = $1 OR name = $1
		ORDER BY id = $1 DESC LIMIT 1`, idOrName).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("sandbox %q not found", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("get sandbox %s: %w", idOrName, classify(err))
	}
	return decode(rec)
}

// ListSandboxes implements sandbox.Store: oldest first, then by ID.
func (s *Store) ListSandboxes(ctx context.Context, f sandbox.ListFilter) ([]*sandbox.Sandbox, error) {
	q, args := `SELECT record FROM sandboxes WHERE true`, []any{}
	if f.Owner != "" {
		args = append(args, f.Owner)
		q += fmt.Sprintf(` AND owner = $%d`, len(args))
	}
	if f.GuestToken != "" {
		args = append(args, f.GuestToken)
		q += fmt.Sprintf(` AND guest_token = $%d`, len(args))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		args = append(args, states)
		q += fmt.Sprintf(` AND state = ANY($%d)`, len(args))
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", classify(err))
	}
	out := []*sandbox.Sandbox{}
	var rec []byte
	_, err = pgx.ForEachRow(rows, []any{&rec}, func() error {
		sb, err := decode(rec)
		if err == nil {
			out = append(out, sb)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", classify(err))
	}
	return out, nil
}

// UpdateSandbox implements sandbox.Store. Renaming to a taken name is ErrAlreadyExists.
func (s *Store) UpdateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	rec, err := encode(sb)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE sandboxes SET name = $2, owner = $3, state = $4, created_at = $5,
		updated_at = $6, started_at = $7, expires_at = $8, guest_token = $9, record = $10 WHERE id = $1`,
		sb.ID, sb.Name, sb.Owner, string(sb.State), sb.CreatedAt, sb.UpdatedAt, sb.StartedAt, sb.ExpiresAt, sb.GuestToken, rec)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
	}
	if err != nil {
		return fmt.Errorf("update sandbox %s: %w", sb.ID, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return errdefs.NotFound("sandbox %q not found", sb.ID)
	}
	return nil
}

// DeleteSandbox implements sandbox.Store.
func (s *Store) DeleteSandbox(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sandboxes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete sandbox %s: %w", id, classify(err))
	}
	return nil
}

// NoteActivity implements sandbox.ActivityStore: one statement for the whole batch, in the
// sandboxes' own rows (a deleted sandbox's use has nowhere to go and is dropped).
func (s *Store) NoteActivity(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]string, 0, len(used))
	ats := make([]time.Time, 0, len(used))
	for id, at := range used {
		ids, ats = append(ids, id), append(ats, at)
	}
	_, err := s.pool.Exec(ctx, `UPDATE sandboxes s SET used_at = GREATEST(s.used_at, u.at)
		FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE s.id = u.id`, ids, ats)
	if err != nil {
		return fmt.Errorf("note sandbox activity: %w", classify(err))
	}
	return nil
}

// LastActivity implements sandbox.ActivityStore.
func (s *Store) LastActivity(ctx context.Context, ids []string) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, used_at FROM sandboxes WHERE id = ANY($1) AND used_at IS NOT NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("read sandbox activity: %w", classify(err))
	}
	out := make(map[string]time.Time, len(ids))
	var id string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error { out[id] = at; return nil })
	if err != nil {
		return nil, fmt.Errorf("read sandbox activity: %w", classify(err))
	}
	return out, nil
}

// encode is the record column of sb: the whole sandbox as JSON text.
func encode(sb *sandbox.Sandbox) (string, error) {
	if sb == nil || sb.ID == "" || sb.Name == "" {
		return "", errdefs.InvalidArgument("a sandbox record needs an ID and a name")
	}
	b, err := json.Marshal(sb)
	if err != nil {
		return "", errdefs.InvalidArgument("sandbox %s cannot be stored: %v", sb.ID, err)
	}
	return string(b), nil
}

func decode(rec []byte) (*sandbox.Sandbox, error) {
	var sb sandbox.Sandbox
	if err := json.Unmarshal(rec, &sb); err != nil {
		return nil, fmt.Errorf("decode sandbox record: %w", classify(err))
	}
	return &sb, nil
}
