package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/schedule"
)

// Schedules is an in-memory schedule.Store. Safe for concurrent use; it keeps and hands out
// copies only.
type Schedules struct {
	mu    sync.Mutex
	byID  map[string]schedule.Schedule
	execs map[string]schedule.Execution
}

var _ schedule.Store = (*Schedules)(nil)

// NewSchedules returns an empty store.
func NewSchedules() *Schedules {
	return &Schedules{byID: map[string]schedule.Schedule{}, execs: map[string]schedule.Execution{}}
}

func copySchedule(s schedule.Schedule) schedule.Schedule {
	if s.TimeoutSeconds != nil {
		v := *s.TimeoutSeconds
		s.TimeoutSeconds = &v
	}
	if s.LastRunAt != nil {
		v := *s.LastRunAt
		s.LastRunAt = &v
	}
	if s.NextRunAt != nil {
		v := *s.NextRunAt
		s.NextRunAt = &v
	}
	return s
}

// CreateSchedule implements schedule.Store.
func (m *Schedules) CreateSchedule(_ context.Context, s *schedule.Schedule) error {
	if s == nil || s.ID == "" {
		return errdefs.InvalidArgument("a schedule needs an ID")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[s.ID]; ok {
		return errdefs.AlreadyExists("schedule %q exists", s.ID)
	}
	m.byID[s.ID] = copySchedule(*s)
	return nil
}

// GetSchedule implements schedule.Store.
func (m *Schedules) GetSchedule(_ context.Context, id string) (*schedule.Schedule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return nil, errdefs.NotFound("schedule %q not found", id)
	}
	c := copySchedule(s)
	return &c, nil
}

// ListSchedules implements schedule.Store.
func (m *Schedules) ListSchedules(_ context.Context, agentID string) ([]schedule.Schedule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []schedule.Schedule{}
	for _, s := range m.byID {
		if agentID == "" || s.AgentID == agentID {
			out = append(out, copySchedule(s))
		}
	}
	slices.SortFunc(out, func(a, b schedule.Schedule) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateSchedule implements schedule.Store.
func (m *Schedules) UpdateSchedule(_ context.Context, s *schedule.Schedule) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.byID[s.ID]
	if !ok {
		return errdefs.NotFound("schedule %q not found", s.ID)
	}
	c := copySchedule(*s)
	c.LastRunAt = old.LastRunAt
	m.byID[s.ID] = c
	return nil
}

func (m *Schedules) setTime(id string, at time.Time, field func(*schedule.Schedule) **time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return errdefs.NotFound("schedule %q not found", id)
	}
	if at.IsZero() {
		*field(&s) = nil
	} else {
		*field(&s) = &at
	}
	m.byID[id] = s
	return nil
}

// AdvanceNextRun implements schedule.Store.
func (m *Schedules) AdvanceNextRun(_ context.Context, id string, from, to time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byID[id]
	if !ok {
		return false, errdefs.NotFound("schedule %q not found", id)
	}
	if s.NextRunAt == nil || !s.NextRunAt.Equal(from) {
		return false, nil
	}
	s.NextRunAt = nil
	if !to.IsZero() {
		s.NextRunAt = &to
	}
	m.byID[id] = s
	return true, nil
}

// SetLastRun implements schedule.Store.
func (m *Schedules) SetLastRun(_ context.Context, id string, at time.Time) error {
	return m.setTime(id, at, func(s *schedule.Schedule) **time.Time { return &s.LastRunAt })
}

// DeleteSchedule implements schedule.Store.
func (m *Schedules) DeleteSchedule(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, id)
	return nil
}

// DeleteAgentSchedules implements schedule.Store.
func (m *Schedules) DeleteAgentSchedules(_ context.Context, agentID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.byID {
		if s.AgentID == agentID {
			delete(m.byID, id)
		}
	}
	for id, e := range m.execs {
		if e.AgentID == agentID {
			delete(m.execs, id)
		}
	}
	return nil
}

// PutExecution implements schedule.Store.
func (m *Schedules) PutExecution(_ context.Context, e *schedule.Execution) error {
	if e == nil || e.ID == "" {
		return errdefs.InvalidArgument("an execution needs an ID")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.execs[e.ID] = *e
	return nil
}

// ListExecutions implements schedule.Store.
func (m *Schedules) ListExecutions(_ context.Context, f schedule.ExecutionFilter) ([]schedule.Execution, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []schedule.Execution{}
	for _, e := range m.execs {
		if (f.AgentID == "" || e.AgentID == f.AgentID) && (f.ScheduleID == "" || e.ScheduleID == f.ScheduleID) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b schedule.Execution) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.ID, a.ID))
	})
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
