package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

var _ manager.WarmStore = (*Store)(nil)

// PutWarm implements manager.WarmStore.
func (s *Store) PutWarm(ctx context.Context, u *manager.WarmUnit) error {
	if u == nil || u.ID == "" || u.Pool == "" {
		return errdefs.InvalidArgument("a warm unit needs an ID and a pool")
	}
	inst, err := json.Marshal(u.Instance)
	if err != nil {
		return errdefs.InvalidArgument("warm unit %s cannot be stored: %v", u.ID, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO warm_units (id, pool, instance, guest_token, made_at)
		VALUES ($1, $2, $3, $4, $5)`, u.ID, u.Pool, inst, u.GuestToken, u.MadeAt)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("warm unit %q exists", u.ID)
	}
	if err != nil {
		return fmt.Errorf("put warm unit %s: %w", u.ID, classify(err))
	}
	return nil
}

const warmColumns = `id, pool, instance, guest_token, made_at`

func scanWarm(row pgx.Row) (*manager.WarmUnit, error) {
	var u manager.WarmUnit
	var inst []byte
	if err := row.Scan(&u.ID, &u.Pool, &inst, &u.GuestToken, &u.MadeAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(inst, &u.Instance); err != nil {
		return nil, fmt.Errorf("decode warm unit %s: %w", u.ID, err)
	}
	u.MadeAt = utc(u.MadeAt)
	return &u, nil
}

// ClaimWarm implements manager.WarmStore: the row is locked and deleted in one statement,
// and SKIP LOCKED lets concurrent claimers pass over a row another one is taking.
func (s *Store) ClaimWarm(ctx context.Context, pool string) (*manager.WarmUnit, error) {
	u, err := scanWarm(s.pool.QueryRow(ctx, `DELETE FROM warm_units WHERE id = (
			SELECT id FROM warm_units WHERE pool = $1 ORDER BY made_at, id
			FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING `+warmColumns, pool))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("no warm unit in pool %s", pool)
	}
	if err != nil {
		return nil, fmt.Errorf("claim a warm unit: %w", classify(err))
	}
	return u, nil
}

// DeleteWarm implements manager.WarmStore.
func (s *Store) DeleteWarm(ctx context.Context, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM warm_units WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("delete warm unit %s: %w", id, classify(err))
	}
	return tag.RowsAffected() > 0, nil
}

// ListWarm implements manager.WarmStore.
func (s *Store) ListWarm(ctx context.Context) ([]manager.WarmUnit, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+warmColumns+` FROM warm_units ORDER BY pool, made_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list warm units: %w", classify(err))
	}
	defer rows.Close()
	out := []manager.WarmUnit{}
	for rows.Next() {
		u, err := scanWarm(rows)
		if err != nil {
			return nil, fmt.Errorf("list warm units: %w", classify(err))
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list warm units: %w", classify(err))
	}
	return out, nil
}
