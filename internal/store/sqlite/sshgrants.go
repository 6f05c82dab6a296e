package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sshgate"
)

var _ sshgate.Store = (*Store)(nil)

// PutSSHGrant implements sshgate.Store.
func (s *Store) PutSSHGrant(ctx context.Context, g *sshgate.Grant) error {
	if g == nil || g.AgentID == "" || g.Fingerprint == "" || g.PublicKey == "" {
		return errdefs.InvalidArgument("a grant needs an agent, a fingerprint and a key")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO ssh_grants (agent_id, fingerprint, public_key, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (agent_id, fingerprint) DO UPDATE SET public_key = excluded.public_key,
			expires_at = excluded.expires_at, created_at = excluded.created_at`,
		g.AgentID, g.Fingerprint, g.PublicKey, g.ExpiresAt.UnixMicro(), g.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("put ssh grant: %w", err)
	}
	return nil
}

const grantColumns = `agent_id, fingerprint, public_key, expires_at, created_at`

func scanGrant(row interface{ Scan(...any) error }) (*sshgate.Grant, error) {
	var g sshgate.Grant
	var exp, created int64
	if err := row.Scan(&g.AgentID, &g.Fingerprint, &g.PublicKey, &exp, &created); err != nil {
		return nil, err
	}
	g.ExpiresAt, g.CreatedAt = time.UnixMicro(exp).UTC(), time.UnixMicro(created).UTC()
	return &g, nil
}

// SSHGrant implements sshgate.Store.
func (s *Store) SSHGrant(ctx context.Context, agentID, fingerprint string) (*sshgate.Grant, error) {
	g, err := scanGrant(s.db.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM ssh_grants
		WHERE agent_id = ? AND fingerprint = ?`, agentID, fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("no ssh grant for this key")
	}
	if err != nil {
		return nil, fmt.Errorf("get ssh grant: %w", err)
	}
	return g, nil
}

// ListSSHGrants implements sshgate.Store.
func (s *Store) ListSSHGrants(ctx context.Context, agentID string) ([]sshgate.Grant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+grantColumns+` FROM ssh_grants WHERE agent_id = ?
		ORDER BY created_at, fingerprint`, agentID)
	if err != nil {
		return nil, fmt.Errorf("list ssh grants: %w", err)
	}
	defer rows.Close()
	out := []sshgate.Grant{}
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, rows.Err()
}

// DeleteSSHGrants implements sshgate.Store.
func (s *Store) DeleteSSHGrants(ctx context.Context, agentID string) (int, error) {
	return s.deleteGrants(ctx, `DELETE FROM ssh_grants WHERE agent_id = ?`, agentID)
}

// DeleteExpiredSSHGrants implements sshgate.Store.
func (s *Store) DeleteExpiredSSHGrants(ctx context.Context, t time.Time) (int, error) {
	return s.deleteGrants(ctx, `DELETE FROM ssh_grants WHERE expires_at <= ?`, t.UnixMicro())
}

func (s *Store) deleteGrants(ctx context.Context, q string, arg any) (int, error) {
	res, err := s.db.ExecContext(ctx, q, arg)
	if err != nil {
		return 0, fmt.Errorf("delete ssh grants: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
