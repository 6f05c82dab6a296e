package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/credential"
)

var _ credential.Store = (*Store)(nil)

// PutCredentials implements credential.Store.
func (s *Store) PutCredentials(ctx context.Context, agentID string, recs []credential.Record) error {
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, r := range recs {
			b.Queue(`INSERT INTO agent_credentials (agent_id, path, sealed, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (agent_id, path) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
				agentID, r.Path, r.Sealed, r.UpdatedAt)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("put credentials of agent %s: %w", agentID, classify(err))
	}
	return nil
}

// ListCredentials implements credential.Store.
func (s *Store) ListCredentials(ctx context.Context, agentID string) ([]credential.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT path, sealed, updated_at FROM agent_credentials WHERE agent_id = $1 ORDER BY path`, agentID)
	if err != nil {
		return nil, fmt.Errorf("list credentials of agent %s: %w", agentID, classify(err))
	}
	out := []credential.Record{}
	var r credential.Record
	_, err = pgx.ForEachRow(rows, []any{&r.Path, &r.Sealed, &r.UpdatedAt}, func() error {
		r.UpdatedAt = utc(r.UpdatedAt)
		out = append(out, r)
		r = credential.Record{} // Sealed is scanned into a new slice each row
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list credentials of agent %s: %w", agentID, classify(err))
	}
	return out, nil
}

// DeleteAgentCredentials implements credential.Store.
func (s *Store) DeleteAgentCredentials(ctx context.Context, agentID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM agent_credentials WHERE agent_id = $1`, agentID); err != nil {
		return fmt.Errorf("delete credentials of agent %s: %w", agentID, classify(err))
	}
	return nil
}
