package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

const shareColumns = `sandbox_id, user_id, role, created_at`

// userExists is NotFound when no user has id.
func userExists(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errdefs.NotFound("user %q not found", id)
	}
	return nil
}

// PutShare implements account.ShareStore.
func (s *Store) PutShare(ctx context.Context, sh *account.Share) error {
	if sh == nil || sh.SandboxID == "" || sh.UserID == "" || !sh.Role.Valid() {
		return errdefs.InvalidArgument("a share needs a sandbox, a user and a role")
	}
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, sh.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sandbox_shares(`+shareColumns+`) VALUES (?, ?, ?, ?)
			ON CONFLICT(sandbox_id, user_id) DO UPDATE SET role = excluded.role, created_at = excluded.created_at`,
			sh.SandboxID, sh.UserID, string(sh.Role), sh.CreatedAt.UnixNano())
		return err
	})
}

func scanShare(row scanner) (*account.Share, error) {
	var sh account.Share
	var created int64
	if err := row.Scan(&sh.SandboxID, &sh.UserID, &sh.Role, &created); err != nil {
		return nil, err
	}
	sh.CreatedAt = time.Unix(0, created).UTC()
	return &sh, nil
}

// GetShare implements account.ShareStore.
func (s *Store) GetShare(ctx context.Context, sandboxID, userID string) (*account.Share, error) {
	sh, err := scanShare(s.db.QueryRowContext(ctx, `SELECT `+shareColumns+` FROM sandbox_shares
		WHERE sandbox_id = ? AND user_id = ?`, sandboxID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("share not found")
	}
	return sh, err
}

// ListShares implements account.ShareStore.
func (s *Store) ListShares(ctx context.Context, sandboxID string) ([]*account.Share, error) {
	return s.queryShares(ctx, `SELECT `+shareColumns+` FROM sandbox_shares WHERE sandbox_id = ?
		ORDER BY created_at, user_id`, sandboxID)
}

// ListSharesOf implements account.ShareStore.
func (s *Store) ListSharesOf(ctx context.Context, userID string) ([]*account.Share, error) {
	return s.queryShares(ctx, `SELECT `+shareColumns+` FROM sandbox_shares WHERE user_id = ?
		ORDER BY created_at, sandbox_id`, userID)
}

func (s *Store) queryShares(ctx context.Context, q string, arg string) ([]*account.Share, error) {
	rows, err := s.db.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*account.Share{}
	for rows.Next() {
		sh, err := scanShare(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// DeleteShare implements account.ShareStore.
func (s *Store) DeleteShare(ctx context.Context, sandboxID, userID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sandbox_shares WHERE sandbox_id = ? AND user_id = ?`, sandboxID, userID)
	return err
}

// DeleteSandboxShares implements account.ShareStore.
func (s *Store) DeleteSandboxShares(ctx context.Context, sandboxID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sandbox_shares WHERE sandbox_id = ?`, sandboxID)
	return err
}

// GetQuota implements account.QuotaStore.
func (s *Store) GetQuota(ctx context.Context, userID string) (*account.Quota, error) {
	var q account.Quota
	err := s.db.QueryRowContext(ctx, `SELECT sandboxes, memory_mb, vcpus, creates_per_minute, sessions
		FROM user_quotas WHERE user_id = ?`, userID).Scan(&q.Sandboxes, &q.MemoryMB, &q.VCPUs, &q.CreatesPerMinute, &q.Sessions)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("no quota set for user %q", userID)
	}
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// SetQuota implements account.QuotaStore.
func (s *Store) SetQuota(ctx context.Context, userID string, q account.Quota) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		if err := userExists(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_quotas(user_id, sandboxes, memory_mb, vcpus, creates_per_minute, sessions)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET sandboxes = excluded.sandboxes,
			memory_mb = excluded.memory_mb, vcpus = excluded.vcpus, creates_per_minute = excluded.creates_per_minute,
			sessions = excluded.sessions`, userID, q.Sandboxes, q.MemoryMB, q.VCPUs, q.CreatesPerMinute, q.Sessions)
		return err
	})
}
