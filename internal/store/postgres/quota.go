package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// QuotaLedger is the manager.QuotaLedger that every replica on the database shares (the
// table quota_reservations), so that each one's quota checks count the others' creates
// under way. Safe for concurrent use.
type QuotaLedger struct {
	pool *pgxpool.Pool
}

var _ manager.QuotaLedger = (*QuotaLedger)(nil)

// Quotas returns the store's quota ledger, on the store's connections (valid until Close).
func (s *Store) Quotas() *QuotaLedger { return &QuotaLedger{pool: s.pool} }

// Reserve implements manager.QuotaLedger. In the same transaction it deletes the user's rows
// that no longer count (settled or expired, and over a minute old), so a user's rows are
// at most their last minute's creations plus their creates under way.
func (l *QuotaLedger) Reserve(ctx context.Context, r manager.Reservation) error {
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("reserve quota: %w", classify(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `DELETE FROM quota_reservations WHERE user_id = $1 AND at <= $2
		AND (settled OR expires_at <= $3)`, r.UserID, r.At.Add(-time.Minute), r.At); err != nil {
		return fmt.Errorf("prune quota reservations: %w", classify(err))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO quota_reservations (id, user_id, sandbox, memory_mb, vcpus, is_create, at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, r.UserID, r.Sandbox, r.MemoryMB, r.VCPUs, r.Create, r.At, r.Expires); err != nil {
		if isUniqueViolation(err) {
			return errdefs.AlreadyExists("reservation %s exists", r.ID)
		}
		return fmt.Errorf("reserve quota: %w", classify(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("reserve quota: %w", classify(err))
	}
	return nil
}

// Extend implements manager.QuotaLedger.
func (l *QuotaLedger) Extend(ctx context.Context, id string, expires time.Time) error {
	if _, err := l.pool.Exec(ctx, `UPDATE quota_reservations SET expires_at = $2 WHERE id = $1 AND NOT settled`,
		id, expires); err != nil {
		return fmt.Errorf("extend quota reservation: %w", classify(err))
	}
	return nil
}

// Settle implements manager.QuotaLedger.
func (l *QuotaLedger) Settle(ctx context.Context, id string, made bool) error {
	stmt := `DELETE FROM quota_reservations WHERE id = $1`
	if made {
		// A made creation keeps its row (settled) for the creations of the last minute;
		// anything else goes.
		stmt = `WITH made AS (UPDATE quota_reservations SET settled = true WHERE id = $1 AND is_create RETURNING id)
			DELETE FROM quota_reservations WHERE id = $1 AND NOT is_create`
	}
	if _, err := l.pool.Exec(ctx, stmt, id); err != nil {
		return fmt.Errorf("settle quota reservation: %w", classify(err))
	}
	return nil
}

// Pending implements manager.QuotaLedger.
func (l *QuotaLedger) Pending(ctx context.Context, userID string, now time.Time) ([]manager.Reservation, error) {
	rows, err := l.pool.Query(ctx, `SELECT id, user_id, sandbox, memory_mb, vcpus, is_create, at, expires_at
		FROM quota_reservations WHERE user_id = $1 AND NOT settled AND expires_at > $2 ORDER BY at, id`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list pending quota reservations: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (manager.Reservation, error) {
		var r manager.Reservation
		err := row.Scan(&r.ID, &r.UserID, &r.Sandbox, &r.MemoryMB, &r.VCPUs, &r.Create, &r.At, &r.Expires)
		r.At, r.Expires = utc(r.At), utc(r.Expires)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list pending quota reservations: %w", classify(err))
	}
	if out == nil {
		out = []manager.Reservation{}
	}
	return out, nil
}

// CreatesSince implements manager.QuotaLedger.
func (l *QuotaLedger) CreatesSince(ctx context.Context, userID string, since time.Time) (int, error) {
	var n int
	err := l.pool.QueryRow(ctx, `SELECT count(*) FROM quota_reservations
		WHERE user_id = $1 AND is_create AND at >= $2`, userID, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recent creates: %w", classify(err))
	}
	return n, nil
}
