package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sshgate"
)

var _ sshgate.Store = (*Store)(nil)

// PutSSHGrant implements sshgate.Store.
func (s *Store) PutSSHGrant(ctx context.Context, g *sshgate.Grant) error {
	if g == nil || g.AgentID == "" || g.Fingerprint == "" || g.PublicKey == "" {
		return errdefs.InvalidArgument("a grant needs an agent, a fingerprint and a key")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO ssh_grants (agent_id, fingerprint, public_key, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (agent_id, fingerprint) DO UPDATE SET public_key = excluded.public_key,
			expires_at = excluded.expires_at, created_at = excluded.created_at`,
		g.AgentID, g.Fingerprint, g.PublicKey, g.ExpiresAt, g.CreatedAt)
	if err != nil {
		return fmt.Errorf("put ssh grant: %w", classify(err))
	}
	return nil
}

const grantColumns = `agent_id, fingerprint, public_key, expires_at, created_at`

func scanGrant(row pgx.Row) (*sshgate.Grant, error) {
	var g sshgate.Grant
	if err := row.Scan(&g.AgentID, &g.Fingerprint, &g.PublicKey, &g.ExpiresAt, &g.CreatedAt); err != nil {
		return nil, err
	}
	g.ExpiresAt, g.CreatedAt = utc(g.ExpiresAt), utc(g.CreatedAt)
	return &g, nil
}

// SSHGrant implements sshgate.Store.
func (s *Store) SSHGrant(ctx context.Context, agentID, fingerprint string) (*sshgate.Grant, error) {
	g, err := scanGrant(s.pool.QueryRow(ctx, `SELECT `+grantColumns+` FROM ssh_grants
		WHERE agent_id = $1 AND fingerprint = $2`, agentID, fingerprint))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("no ssh grant for this key")
	}
	if err != nil {
		return nil, fmt.Errorf("get ssh grant: %w", classify(err))
	}
	return g, nil
}

// ListSSHGrants implements sshgate.Store.
func (s *Store) ListSSHGrants(ctx context.Context, agentID string) ([]sshgate.Grant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+grantColumns+` FROM ssh_grants WHERE agent_id = $1
		ORDER BY created_at, fingerprint`, agentID)
	if err != nil {
		return nil, fmt.Errorf("list ssh grants: %w", classify(err))
	}
	defer rows.Close()
	out := []sshgate.Grant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list ssh grants: %w", classify(err))
		}
		out = append(out, *g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list ssh grants: %w", classify(err))
	}
	return out, nil
}

// DeleteSSHGrants implements sshgate.Store.
func (s *Store) DeleteSSHGrants(ctx context.Context, agentID string) (int, error) {
	return s.deleteGrants(ctx, `DELETE FROM ssh_grants WHERE agent_id = $1`, agentID)
}

// DeleteExpiredSSHGrants implements sshgate.Store.
func (s *Store) DeleteExpiredSSHGrants(ctx context.Context, t time.Time) (int, error) {
	return s.deleteGrants(ctx, `DELETE FROM ssh_grants WHERE expires_at <= $1`, t)
}

func (s *Store) deleteGrants(ctx context.Context, q string, arg any) (int, error) {
	tag, err := s.pool.Exec(ctx, q, arg)
	if err != nil {
		return 0, fmt.Errorf("delete ssh grants: %w", classify(err))
	}
	return int(tag.RowsAffected()), nil
}
