package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/paddock/paddock/internal/credential"
)

var _ credential.Store = (*Store)(nil)

// PutCredentials implements credential.Store.
func (s *Store) PutCredentials(ctx context.Context, agentID string, recs []credential.Record) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		for _, r := range recs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO agent_credentials(agent_id, path, sealed, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT(agent_id, path) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
				agentID, r.Path, r.Sealed, r.UpdatedAt.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListCredentials implements credential.Store.
func (s *Store) ListCredentials(ctx context.Context, agentID string) ([]credential.Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT path, sealed, updated_at FROM agent_credentials WHERE agent_id = ? ORDER BY path`, agentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []credential.Record{}
	for rows.Next() {
		var r credential.Record
		var at int64
		if err := rows.Scan(&r.Path, &r.Sealed, &at); err != nil {
			return nil, err
		}
		r.UpdatedAt = time.Unix(0, at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteAgentCredentials implements credential.Store.
func (s *Store) DeleteAgentCredentials(ctx context.Context, agentID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM agent_credentials WHERE agent_id = ?`, agentID)
	return err
}
