package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/schedule"
)

var _ schedule.Store = (*Store)(nil)

// nanosOrNull is t as nanoseconds, or NULL.
func nanosOrNull(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixNano()
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO agent_schedules(id, agent_id, created_at, last_run_at, next_run_at, record)
		VALUES (?, ?, ?, ?, ?, ?)`, sc.ID, sc.AgentID, sc.CreatedAt.UnixNano(), nanosOrNull(sc.LastRunAt), nanosOrNull(sc.NextRunAt), string(rec))
	if isUniqueViolation(err) {
		return errdefs.AlreadyExists("schedule %q exists", sc.ID)
	}
	return err
}

const scheduleCols = `SELECT last_run_at, next_run_at, record FROM agent_schedules`

// GetSchedule implements schedule.Store.
func (s *Store) GetSchedule(ctx context.Context, id string) (*schedule.Schedule, error) {
	rows, err := s.db.QueryContext(ctx, scheduleCols+` WHERE id = ?`, id)
	if err != nil {
		return nil, err
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
	q, args := scheduleCols, []any{}
	if agentID != "" {
		q += ` WHERE agent_id = ?`
		args = append(args, agentID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	return scanSchedules(rows)
}

func scanSchedules(rows *sql.Rows) ([]schedule.Schedule, error) {
	defer rows.Close()
	out := []schedule.Schedule{}
	for rows.Next() {
		var last, next sql.NullInt64
		var rec string
		if err := rows.Scan(&last, &next, &rec); err != nil {
			return nil, err
		}
		var sc schedule.Schedule
		if err := json.Unmarshal([]byte(rec), &sc); err != nil {
			return nil, err
		}
		sc.LastRunAt, sc.NextRunAt = timeOf(last), timeOf(next)
		out = append(out, sc)
	}
	return out, rows.Err()
}

func timeOf(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(0, n.Int64).UTC()
	return &t
}

// UpdateSchedule implements schedule.Store.
func (s *Store) UpdateSchedule(ctx context.Context, sc *schedule.Schedule) error {
	rec, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE agent_schedules SET agent_id = ?, next_run_at = ?, record = ? WHERE id = ?`,
		sc.AgentID, nanosOrNull(sc.NextRunAt), string(rec), sc.ID)
	return affected(res, err, "schedule", sc.ID)
}

// AdvanceNextRun implements schedule.Store.
func (s *Store) AdvanceNextRun(ctx context.Context, id string, from, to time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE agent_schedules SET next_run_at = ? WHERE id = ? AND next_run_at = ?`,
		nanosOrNull(&to), id, from.UnixNano())
	if err != nil {
		return false, fmt.Errorf("advance schedule %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	_, err = s.GetSchedule(ctx, id) // not found, or moved by someone else
	return false, err
}

// SetLastRun implements schedule.Store.
func (s *Store) SetLastRun(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE agent_schedules SET last_run_at = ? WHERE id = ?`, nanosOrNull(&at), id)
	return affected(res, err, "schedule", id)
}

// affected turns an UPDATE that matched no row into a not-found error.
func affected(res sql.Result, err error, what, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errdefs.NotFound("%s %q not found", what, id)
	}
	return nil
}

// DeleteSchedule implements schedule.Store.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM agent_schedules WHERE id = ?`, id)
	return err
}

// DeleteAgentSchedules implements schedule.Store.
func (s *Store) DeleteAgentSchedules(ctx context.Context, agentID string) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM agent_schedules WHERE agent_id = ?`, agentID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM schedule_executions WHERE agent_id = ?`, agentID)
		return err
	})
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO schedule_executions(id, schedule_id, agent_id, started_at, record) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET schedule_id = excluded.schedule_id, agent_id = excluded.agent_id,
			started_at = excluded.started_at, record = excluded.record`,
		e.ID, e.ScheduleID, e.AgentID, e.StartedAt.UnixNano(), string(rec))
	return err
}

// ListExecutions implements schedule.Store.
func (s *Store) ListExecutions(ctx context.Context, f schedule.ExecutionFilter) ([]schedule.Execution, error) {
	q, args := `SELECT record FROM schedule_executions WHERE 1`, []any{}
	if f.AgentID != "" {
		q += ` AND agent_id = ?`
		args = append(args, f.AgentID)
	}
	if f.ScheduleID != "" {
		q += ` AND schedule_id = ?`
		args = append(args, f.ScheduleID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY started_at DESC, id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []schedule.Execution{}
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		var e schedule.Execution
		if err := json.Unmarshal([]byte(rec), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
