package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

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
	_, err = s.db.ExecContext(ctx, `INSERT INTO fleet_agents(id, name, owner, created_at, record) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Owner, nanos(a.CreatedAt), string(rec))
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("agent %q already exists", a.Name)
	}
	return err
}

// GetAgent implements fleet.Store. An ID wins over a name.
func (s *Store) GetAgent(ctx context.Context, idOrName string) (*fleet.Agent, error) {
	var rec string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM fleet_agents WHERE id = ?
		UNION ALL SELECT record FROM fleet_agents WHERE name = ? LIMIT 1`, idOrName, idOrName).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errdefs.NotFound("agent %q not found", idOrName)
	}
	if err != nil {
		return nil, err
	}
	return decodeAgent(rec)
}

func decodeAgent(rec string) (*fleet.Agent, error) {
	var a fleet.Agent
	if err := json.Unmarshal([]byte(rec), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListAgents implements fleet.Store.
func (s *Store) ListAgents(ctx context.Context) ([]*fleet.Agent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT record FROM fleet_agents ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*fleet.Agent{}
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		a, err := decodeAgent(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
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
	res, err := s.db.ExecContext(ctx, `UPDATE fleet_agents SET name = ?, owner = ?, created_at = ?, record = ? WHERE id = ?`,
		a.Name, a.Owner, nanos(a.CreatedAt), string(rec), a.ID)
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("agent %q already exists", a.Name)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errdefs.NotFound("agent %q not found", a.ID)
	}
	return nil
}

// DeleteAgent implements fleet.Store.
func (s *Store) DeleteAgent(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM fleet_agents WHERE id = ?`, id)
	return err
}

// AppendAgentLog implements fleet.Store.
func (s *Store) AppendAgentLog(ctx context.Context, id string, data []byte, max int) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		var cur []byte
		err := tx.QueryRowContext(ctx, `SELECT log FROM fleet_agents WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return errdefs.NotFound("agent %q not found", id)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE fleet_agents SET log = ? WHERE id = ?`, fleet.TrimLog(append(cur, data...), max), id)
		return err
	})
}

// AgentLog implements fleet.Store.
func (s *Store) AgentLog(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT log FROM fleet_agents WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return []byte{}, nil
	}
	if b == nil {
		b = []byte{}
	}
	return b, err
}
