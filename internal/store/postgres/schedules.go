package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/schedule"
)

var _ schedule.Store = (*Store)(nil)

// orNull is t, or NULL when it is unset.
func orNull(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	return t
}

// CreateSchedule implements schedule.Store.
func (s *Store) CreateSchedule(ctx context.Context, sc *schedule.Schedule) error {
	if sc == nil || sc.ID == "" {
		return errdefs.InvalidArgument("a schedule needs an ID")
	}
	rec, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO agent_schedules (id, agent_id, created_at, last_run_at, next_run_at, record)
		VALUES ($1, $2, $3, $4, $5, $6)`, sc.ID, sc.AgentID, sc.CreatedAt, orNull(sc.LastRunAt), orNull(sc.NextRunAt), string(rec))
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("schedule %q exists", sc.ID)
	}
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", sc.ID, classify(err))
	}
	return nil
}

const scheduleCols = `SELECT last_run_at, next_run_at, record FROM agent_schedules`

// GetSchedule implements schedule.Store.
func (s *Store) GetSchedule(ctx context.Context, id string) (*schedule.Schedule, error) {
	rows, err := s.pool.Query(ctx, scheduleCols+` WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get schedule %s: %w", id, classify(err))
	}
	scs, err := scanSchedules(rows)
	if err != nil {
		return nil, err
	}
	if len(scs) == 0 {
		return nil, errdefs.NotFound("schedule %q not found", id)
	}
	return &scs[0], nil
}

// ListSchedules implements schedule.Store.
func (s *Store) ListSchedules(ctx context.Context, agentID string) ([]schedule.Schedule, error) {
	rows, err := s.pool.Query(ctx, scheduleCols+` WHERE ($1 = '' OR agent_id = $1) ORDER BY created_at, id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", classify(err))
	}
	return scanSchedules(rows)
}

func scanSchedules(rows pgx.Rows) ([]schedule.Schedule, error) {
	out := []schedule.Schedule{}
	var last, next *time.Time
	var rec []byte
	_, err := pgx.ForEachRow(rows, []any{&last, &next, &rec}, func() error {
		var sc schedule.Schedule
		if err := json.Unmarshal(rec, &sc); err != nil {
			return err
		}
		sc.LastRunAt, sc.NextRunAt = utcPtr(last), utcPtr(next)
		out = append(out, sc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schedules: %w", classify(err))
	}
	return out, nil
}

// UpdateSchedule implements schedule.Store.
func (s *Store) UpdateSchedule(ctx context.Context, sc *schedule.Schedule) error {
	rec, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE agent_schedules SET agent_id = $2, next_run_at = $3, record = $4 WHERE id = $1`,
		sc.ID, sc.AgentID, orNull(sc.NextRunAt), string(rec))
	return affected(tag.RowsAffected(), err, "schedule", sc.ID)
}

// AdvanceNextRun implements schedule.Store.
func (s *Store) AdvanceNextRun(ctx context.Context, id string, from, to time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE agent_schedules SET next_run_at = $2 WHERE id = $1 AND next_run_at = $3`,
		id, orNull(&to), from)
	if err != nil {
		return false, fmt.Errorf("advance schedule %s: %w", id, classify(err))
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	_, err = s.GetSchedule(ctx, id) // not found, or moved by someone else
	return false, err
}

// SetLastRun implements schedule.Store.
func (s *Store) SetLastRun(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE agent_schedules SET last_run_at = $2 WHERE id = $1`, id, orNull(&at))
	return affected(tag.RowsAffected(), err, "schedule", id)
}

// affected turns an UPDATE that matched no row into a not-found error.
func affected(n int64, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("update %s %s: %w", what, id, classify(err))
	}
	if n == 0 {
		return errdefs.NotFound("%s %q not found", what, id)
	}
	return nil
}

// DeleteSchedule implements schedule.Store.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM agent_schedules WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete schedule %s: %w", id, classify(err))
	}
	return nil
}

// DeleteAgentSchedules implements schedule.Store.
func (s *Store) DeleteAgentSchedules(ctx context.Context, agentID string) error {
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM agent_schedules WHERE agent_id = $1`, agentID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM schedule_executions WHERE agent_id = $1`, agentID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete schedules of agent %s: %w", agentID, classify(err))
	}
	return nil
}

// PutExecution implements schedule.Store.
func (s *Store) PutExecution(ctx context.Context, e *schedule.Execution) error {
	if e == nil || e.ID == "" {
		return errdefs.InvalidArgument("an execution needs an ID")
	}
	rec, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO schedule_executions (id, schedule_id, agent_id, started_at, record) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET schedule_id = excluded.schedule_id, agent_id = excluded.agent_id,
			started_at = excluded.started_at, record = excluded.record`,
		e.ID, e.ScheduleID, e.AgentID, e.StartedAt, string(rec))
	if err != nil {
		return fmt.Errorf("put execution %s: %w", e.ID, classify(err))
	}
	return nil
}

// ListExecutions implements schedule.Store: newest first.
func (s *Store) ListExecutions(ctx context.Context, f schedule.ExecutionFilter) ([]schedule.Execution, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT record FROM schedule_executions
		WHERE ($1 = '' OR agent_id = $1) AND ($2 = '' OR schedule_id = $2)
		ORDER BY started_at DESC, id DESC LIMIT $3`, f.AgentID, f.ScheduleID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", classify(err))
	}
	out := []schedule.Execution{}
	var rec []byte
	_, err = pgx.ForEachRow(rows, []any{&rec}, func() error {
		var e schedule.Execution
		if err := json.Unmarshal(rec, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", classify(err))
	}
	return out, nil
}
