package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
)

var _ fleet.Store = (*Store)(nil)

func checkAgent(a *fleet.Agent) error {
	if a == nil || a.ID == "" || a.Name == "" {
		return errdefs.InvalidArgument("an agent needs an ID and a name")
	}
	return nil
}

// CreateAgent implements fleet.Store.
func (s *Store) CreateAgent(ctx context.Context, a *fleet.Agent) error {
	if err := checkAgent(a); err != nil {
		return err
	}
	rec, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO fleet_agents (id, name, owner, created_at, record) VALUES ($1, $2, $3, $4, $5)`,
		a.ID, a.Name, a.Owner, a.CreatedAt, string(rec))
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("agent %q already exists", a.Name)
	}
	if err != nil {
		return fmt.Errorf("create agent %s: %w", a.ID, classify(err))
	}
	return nil
}

// GetAgent implements fleet.Store. An ID wins over a name.
func (s *Store) GetAgent(ctx context.Context, idOrName string) (*fleet.Agent, error) {
	var rec []byte
	err := s.pool.QueryRow(ctx, `SELECT record FROM fleet_agents WHERE id = $1 OR name = $1
		ORDER BY id = $1 DESC LIMIT 1`, idOrName).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errdefs.NotFound("agent %q not found", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("get agent %s: %w", idOrName, classify(err))
	}
	return decodeAgent(rec)
}

func decodeAgent(rec []byte) (*fleet.Agent, error) {
	var a fleet.Agent
	if err := json.Unmarshal(rec, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListAgents implements fleet.Store.
func (s *Store) ListAgents(ctx context.Context) ([]*fleet.Agent, error) {
	rows, err := s.pool.Query(ctx, `SELECT record FROM fleet_agents ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", classify(err))
	}
	out := []*fleet.Agent{}
	var rec []byte
	_, err = pgx.ForEachRow(rows, []any{&rec}, func() error {
		a, err := decodeAgent(rec)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", classify(err))
	}
	return out, nil
}

// UpdateAgent implements fleet.Store.
func (s *Store) UpdateAgent(ctx context.Context, a *fleet.Agent) error {
	if err := checkAgent(a); err != nil {
		return err
	}
	rec, err := json.Marshal(a)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE fleet_agents SET name = $2, owner = $3, created_at = $4, record = $5 WHERE id = $1`,
		a.ID, a.Name, a.Owner, a.CreatedAt, string(rec))
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("agent %q already exists", a.Name)
	}
	if err != nil {
		return fmt.Errorf("update agent %s: %w", a.ID, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return errdefs.NotFound("agent %q not found", a.ID)
	}
	return nil
}

// DeleteAgent implements fleet.Store.
func (s *Store) DeleteAgent(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM fleet_agents WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete agent %s: %w", id, classify(err))
	}
	return nil
}

// AppendAgentLog implements fleet.Store. The row lock (FOR UPDATE) keeps two replicas
// appending at once from losing either's data.
func (s *Store) AppendAgentLog(ctx context.Context, id string, data []byte, max int) error {
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		var cur []byte
		err := tx.QueryRow(ctx, `SELECT log FROM fleet_agents WHERE id = $1 FOR UPDATE`, id).Scan(&cur)
		if errors.Is(err, pgx.ErrNoRows) {
			return errdefs.NotFound("agent %q not found", id)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE fleet_agents SET log = $2 WHERE id = $1`, id, fleet.TrimLog(append(cur, data...), max))
		return err
	})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("append log of agent %s: %w", id, classify(err))
	}
	return err
}

// AgentLog implements fleet.Store.
func (s *Store) AgentLog(ctx context.Context, id string) ([]byte, error) {
	b := []byte{}
	err := s.pool.QueryRow(ctx, `SELECT log FROM fleet_agents WHERE id = $1`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return []byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("log of agent %s: %w", id, classify(err))
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
