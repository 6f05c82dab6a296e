package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

const shareColumns = `sandbox_id, user_id, role, created_at`

// PutShare implements account.ShareStore; a share with an unknown user is ErrNotFound.
func (s *Store) PutShare(ctx context.Context, sh *account.Share) error {
	if sh == nil || sh.SandboxID == "" || sh.UserID == "" || !sh.Role.Valid() {
		return errdefs.InvalidArgument("a share needs a sandbox, a user and a role")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sandbox_shares (`+shareColumns+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sandbox_id, user_id) DO UPDATE SET role = excluded.role, created_at = excluded.created_at`,
		sh.SandboxID, sh.UserID, string(sh.Role), sh.CreatedAt)
	if isForeignKeyViolation(err) {
		return errdefs.NotFound("user %q not found", sh.UserID)
	}
	if err != nil {
		return fmt.Errorf("put share: %w", classify(err))
	}
	return nil
}

func scanShare(row pgx.Row) (*account.Share, error) {
	var sh account.Share
	if err := row.Scan(&sh.SandboxID, &sh.UserID, &sh.Role, &sh.CreatedAt); err != nil {
		return nil, err
	}
	sh.CreatedAt = utc(sh.CreatedAt)
	return &sh, nil
}

// GetShare implements account.ShareStore.
func (s *Store) GetShare(ctx context.Context, sandboxID, userID string) (*account.Share, error) {
	sh, err := scanShare(s.pool.QueryRow(ctx, `SELECT `+shareColumns+` FROM sandbox_shares
		WHERE sandbox_id = $1 AND user_id = $2`, sandboxID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("share not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get share: %w", classify(err))
	}
	return sh, nil
}

// ListShares implements account.ShareStore.
func (s *Store) ListShares(ctx context.Context, sandboxID string) ([]*account.Share, error) {
	return s.queryShares(ctx, `SELECT `+shareColumns+` FROM sandbox_shares WHERE sandbox_id = $1
		ORDER BY created_at, user_id`, sandboxID)
}

// ListSharesOf implements account.ShareStore.
func (s *Store) ListSharesOf(ctx context.Context, userID string) ([]*account.Share, error) {
	return s.queryShares(ctx, `SELECT `+shareColumns+` FROM sandbox_shares WHERE user_id = $1
		ORDER BY created_at, sandbox_id`, userID)
}

func (s *Store) queryShares(ctx context.Context, q string, arg string) ([]*account.Share, error) {
	rows, err := s.pool.Query(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("list shares: %w", classify(err))
	}
	return collect(rows, scanShare, "list shares")
}

// DeleteShare implements account.ShareStore.
func (s *Store) DeleteShare(ctx context.Context, sandboxID, userID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sandbox_shares WHERE sandbox_id = $1 AND user_id = $2`, sandboxID, userID)
	if err != nil {
		return fmt.Errorf("delete share: %w", classify(err))
	}
	return nil
}

// DeleteSandboxShares implements account.ShareStore.
func (s *Store) DeleteSandboxShares(ctx context.Context, sandboxID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sandbox_shares WHERE sandbox_id = $1`, sandboxID); err != nil {
		return fmt.Errorf("delete shares of %s: %w", sandboxID, classify(err))
	}
	return nil
}

// GetQuota implements account.QuotaStore.
func (s *Store) GetQuota(ctx context.Context, userID string) (*account.Quota, error) {
	var q account.Quota
	err := s.pool.QueryRow(ctx, `SELECT sandboxes, memory_mb, vcpus, creates_per_minute, sessions
		FROM user_quotas WHERE user_id = $1`, userID).Scan(&q.Sandboxes, &q.MemoryMB, &q.VCPUs, &q.CreatesPerMinute, &q.Sessions)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("no quota set for user %q", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("get quota: %w", classify(err))
	}
	return &q, nil
}

// SetQuota implements account.QuotaStore; a quota of an unknown user is ErrNotFound.
func (s *Store) SetQuota(ctx context.Context, userID string, q account.Quota) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO user_quotas (user_id, sandboxes, memory_mb, vcpus, creates_per_minute, sessions)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET sandboxes = excluded.sandboxes,
		memory_mb = excluded.memory_mb, vcpus = excluded.vcpus, creates_per_minute = excluded.creates_per_minute,
		sessions = excluded.sessions`, userID, q.Sandboxes, q.MemoryMB, q.VCPUs, q.CreatesPerMinute, q.Sessions)
	if isForeignKeyViolation(err) {
		return errdefs.NotFound("user %q not found", userID)
	}
	if err != nil {
		return fmt.Errorf("set quota: %w", classify(err))
	}
	return nil
}
