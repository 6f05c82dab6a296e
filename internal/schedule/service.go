package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// Limits of a schedule's text fields.
const (
	maxName        = 200
	maxMessage     = 100_000
	maxCommand     = 16 << 10
	maxDescription = 2000
)

// Options configure a Service. Zero fields take their defaults.
type Options struct {
	// Gate is the agents' autonomy and timeout (nil: every agent autonomous, with MaxTimeout).
	Gate Gate
	Log  *slog.Logger
	// Now and NewTimer are the clock (default: the real one); tests pass a fake, both or
	// neither. NewTimer fires once Now reaches deadline.
	Now      func() time.Time
	NewTimer func(deadline time.Time) Timer
	// MisfireGrace is how late a fire may still happen (the server was down or busy): a
	// schedule whose time passed longer ago is skipped to its next time. Default one minute.
	MisfireGrace time.Duration
}

// Timer is the part of *time.Timer the runner uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realTimer struct{ *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.Timer.C }

// Service manages agents' schedules and runs them (Run). Safe for concurrent use.
type Service struct {
	store Store
	opts  Options
	// wake tells Run that schedules changed (buffered 1: a pending wake is enough).
	wake chan struct{}
	// looping is set while Run runs: a second runner would fire everything twice.
	looping atomic.Bool

	mu      sync.Mutex
	running map[string]bool // schedule IDs whose fire is under way
}

// New returns a Service over store.
func New(store Store, opts Options) *Service {
	if opts.Gate == nil {
		opts.Gate = func(context.Context, string) (bool, time.Duration, error) { return true, MaxTimeout, nil }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewTimer == nil {
		opts.NewTimer = func(deadline time.Time) Timer { return realTimer{time.NewTimer(time.Until(deadline))} }
	}
	if opts.MisfireGrace <= 0 {
		opts.MisfireGrace = time.Minute
	}
	return &Service{store: store, opts: opts, wake: make(chan struct{}, 1), running: map[string]bool{}}
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// changed wakes Run to look at the schedules again.
func (s *Service) changed() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Create adds a schedule to an agent.
func (s *Service) Create(ctx context.Context, agentID string, req CreateRequest) (*Schedule, error) {
	now := s.now()
	sc := &Schedule{ID: newID("sch_"), AgentID: agentID, Name: strings.TrimSpace(req.Name), CronExpression: strings.TrimSpace(req.CronExpression),
		Timezone: req.Timezone, Message: req.Message, Command: req.Command, Enabled: req.Enabled == nil || *req.Enabled,
		TimeoutSeconds: req.TimeoutSeconds, CreatedAt: now, UpdatedAt: now}
	if req.Description != nil {
		sc.Description = *req.Description
	}
	if err := s.check(ctx, sc, now); err != nil {
		return nil, err
	}
	if err := s.store.CreateSchedule(ctx, sc); err != nil {
		return nil, err
	}
	s.changed()
	return sc, nil
}

// Update changes the fields req sets and computes the next run again from now. A
// timeout_seconds of 0 removes the schedule's own timeout.
func (s *Service) Update(ctx context.Context, agentID, id string, req UpdateRequest) (*Schedule, error) {
	sc, err := s.Get(ctx, agentID, id)
	if err != nil {
		return nil, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&sc.Name, req.Name)
	set(&sc.CronExpression, req.CronExpression)
	set(&sc.Message, req.Message)
	set(&sc.Command, req.Command)
	set(&sc.Timezone, req.Timezone)
	set(&sc.Description, req.Description)
	if req.Enabled != nil {
		sc.Enabled = *req.Enabled
	}
	switch {
	case req.TimeoutSeconds != nil && *req.TimeoutSeconds == 0:
		sc.TimeoutSeconds = nil // back to the agent's execution timeout
	case req.TimeoutSeconds != nil:
		sc.TimeoutSeconds = req.TimeoutSeconds
	}
	sc.Name, sc.CronExpression = strings.TrimSpace(sc.Name), strings.TrimSpace(sc.CronExpression)
	now := s.now()
	sc.UpdatedAt = now
	if err := s.check(ctx, sc, now); err != nil {
		return nil, err
	}
	if err := s.store.UpdateSchedule(ctx, sc); err != nil {
		return nil, err
	}
	s.changed()
	return sc, nil
}

// check validates sc and sets its timezone default and NextRunAt.
func (s *Service) check(ctx context.Context, sc *Schedule, now time.Time) error {
	if sc.Timezone == "" {
		sc.Timezone = "UTC"
	}
	spec, err := ParseCron(sc.CronExpression, sc.Timezone)
	if err != nil {
		return err
	}
	switch {
	case sc.Name == "":
		return errdefs.InvalidArgument("name is required")
	case len(sc.Name) > maxName:
		return errdefs.InvalidArgument("name: longer than %d characters", maxName)
	case strings.TrimSpace(sc.Message) == "" && strings.TrimSpace(sc.Command) == "":
		return errdefs.InvalidArgument("message is required (or command)")
	case len(sc.Message) > maxMessage:
		return errdefs.InvalidArgument("message: longer than %d bytes", maxMessage)
	case len(sc.Command) > maxCommand:
		return errdefs.InvalidArgument("command: longer than %d bytes", maxCommand)
	case strings.ContainsRune(sc.Command, 0):
		return errdefs.InvalidArgument("command: contains a NUL byte")
	case len(sc.Description) > maxDescription:
		return errdefs.InvalidArgument("description: longer than %d characters", maxDescription)
	}
	if err := s.checkTimeout(ctx, sc); err != nil {
		return err
	}
	if next := spec.Next(now); !next.IsZero() {
		sc.NextRunAt = &next
	} else {
		sc.NextRunAt = nil
	}
	return nil
}

// checkTimeout refuses a schedule timeout outside [MinTimeout, MaxTimeout] or above the
// agent's execution timeout (as Trinity, #929: the agent's is the ceiling).
func (s *Service) checkTimeout(ctx context.Context, sc *Schedule) error {
	if sc.TimeoutSeconds == nil {
		return nil
	}
	secs := *sc.TimeoutSeconds
	if secs < int(MinTimeout/time.Second) || secs > int(MaxTimeout/time.Second) {
		return errdefs.InvalidArgument("timeout_seconds %d: use %d to %d", secs, int(MinTimeout/time.Second), int(MaxTimeout/time.Second))
	}
	_, limit, err := s.opts.Gate(ctx, sc.AgentID)
	if err != nil {
		return err
	}
	if limit > 0 && time.Duration(secs)*time.Second > limit {
		return errdefs.InvalidArgument("timeout_seconds %d: exceeds the agent's execution timeout (%d s); raise that first", secs, int(limit/time.Second))
	}
	return nil
}

// Get returns one schedule of an agent; a schedule of another agent is not found.
func (s *Service) Get(ctx context.Context, agentID, id string) (*Schedule, error) {
	sc, err := s.store.GetSchedule(ctx, id)
	if err != nil {
		return nil, err
	}
	if sc.AgentID != agentID {
		return nil, errdefs.NotFound("schedule %q not found", id)
	}
	return sc, nil
}

// List returns an agent's schedules, oldest first.
func (s *Service) List(ctx context.Context, agentID string) ([]Schedule, error) {
	return s.store.ListSchedules(ctx, agentID)
}

// Delete removes one schedule of an agent (not found if it is another agent's or gone).
func (s *Service) Delete(ctx context.Context, agentID, id string) error {
	if _, err := s.Get(ctx, agentID, id); err != nil {
		return err
	}
	if err := s.store.DeleteSchedule(ctx, id); err != nil {
		return err
	}
	s.changed()
	return nil
}

// Counts returns how many schedules an agent has and how many of them are enabled (Trinity's
// total_schedules and enabled_schedules).
func (s *Service) Counts(ctx context.Context, agentID string) (total, enabled int, err error) {
	scs, err := s.store.ListSchedules(ctx, agentID)
	if err != nil {
		return 0, 0, err
	}
	for _, sc := range scs {
		if sc.Enabled {
			enabled++
		}
	}
	return len(scs), enabled, nil
}

// DeleteAgent removes every schedule and execution of an agent (when the agent is deleted).
func (s *Service) DeleteAgent(ctx context.Context, agentID string) error {
	if err := s.store.DeleteAgentSchedules(ctx, agentID); err != nil {
		return fmt.Errorf("delete schedules of %s: %w", agentID, err)
	}
	s.changed()
	return nil
}

// Executions lists an agent's executions (of one schedule when scheduleID is set), newest
// first, at most limit (0 = 100).
func (s *Service) Executions(ctx context.Context, agentID, scheduleID string, limit int) ([]Execution, error) {
	if scheduleID != "" {
		if _, err := s.Get(ctx, agentID, scheduleID); err != nil {
			return nil, err
		}
	}
	return s.store.ListExecutions(ctx, ExecutionFilter{AgentID: agentID, ScheduleID: scheduleID, Limit: limit})
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
