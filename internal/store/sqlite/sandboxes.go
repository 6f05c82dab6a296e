package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

var _ sandbox.Store = (*Store)(nil)

// CreateSandbox implements sandbox.Store.
func (s *Store) CreateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	rec, err := encode(sb)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sandboxes
		(id, name, owner, state, created_at, updated_at, started_at, expires_at, guest_token, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sb.ID, sb.Name, sb.Owner, string(sb.State), nanos(sb.CreatedAt), nanos(sb.UpdatedAt),
		nullNanos(sb.StartedAt), nullNanos(sb.ExpiresAt), sb.GuestToken, rec)
	switch {
	case isUniqueViolation(err) && strings.Contains(err.Error(), "sandboxes.name"):
		return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
	case isUniqueViolation(err):
		return errdefs.AlreadyExists("sandbox ID %q is taken", sb.ID)
	case err != nil:
		return fmt.Errorf("create sandbox %s: %w", sb.ID, err)
	}
	return nil
}

// GetSandbox implements sandbox.Store. An ID match wins over a name match.
func (s *Store) GetSandbox(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	var rec string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM sandboxes WHERE id = ? OR name = ?
		ORDER BY id = ? DESC LIMIT 1`, idOrName, idOrName, idOrName).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("sandbox %q not found", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("get sandbox %s: %w", idOrName, err)
	}
	return decode(rec)
}

// ListSandboxes implements sandbox.Store: oldest first, then by ID.
func (s *Store) ListSandboxes(ctx context.Context, f sandbox.ListFilter) ([]*sandbox.Sandbox, error) {
	q := `SELECT record FROM sandboxes WHERE 1=1`
	var args []any
	if f.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	if f.GuestToken != "" {
		q += ` AND guest_token = ?`
		args = append(args, f.GuestToken)
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
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	defer rows.Close()
	out := []*sandbox.Sandbox{}
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, fmt.Errorf("list sandboxes: %w", err)
		}
		sb, err := decode(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	return out, nil
}

// UpdateSandbox implements sandbox.Store. Renaming to a taken name is ErrAlreadyExists.
func (s *Store) UpdateSandbox(ctx context.Context, sb *sandbox.Sandbox) error {
	rec, err := encode(sb)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sandboxes SET name = ?, owner = ?, state = ?,
		created_at = ?, updated_at = ?, started_at = ?, expires_at = ?, guest_token = ?, record = ?
		WHERE id = ?`,
		sb.Name, sb.Owner, string(sb.State), nanos(sb.CreatedAt), nanos(sb.UpdatedAt),
		nullNanos(sb.StartedAt), nullNanos(sb.ExpiresAt), sb.GuestToken, rec, sb.ID)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("sandbox name %q is taken", sb.Name)
	}
	if err != nil {
		return fmt.Errorf("update sandbox %s: %w", sb.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update sandbox %s: %w", sb.ID, err)
	} else if n == 0 {
		return errdefs.NotFound("sandbox %q not found", sb.ID)
	}
	return nil
}

// DeleteSandbox implements sandbox.Store.
func (s *Store) DeleteSandbox(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sandboxes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete sandbox %s: %w", id, err)
	}
	return nil
}

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

func decode(rec string) (*sandbox.Sandbox, error) {
	var sb sandbox.Sandbox
	if err := json.Unmarshal([]byte(rec), &sb); err != nil {
		return nil, fmt.Errorf("decode sandbox record: %w", err)
	}
	return &sb, nil
}

// Time columns hold Unix nanoseconds. Times outside int64's range (before 1678 or after
// 2262, such as the zero time) are clamped, which keeps their order.
var minNanos, maxNanos = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func nullNanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return nanos(*t)
}
