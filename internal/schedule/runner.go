package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/errdefs"
)

// retryAfter is how soon Run looks again after the store failed it.
const retryAfter = 30 * time.Second

// Run fires due schedules until ctx ends, then waits for the fires under way (cancelled with
// ctx) to be recorded and returns ctx's error. Run it once, in one goroutine owned by the
// caller (the server), which stops it by cancelling ctx.
//
// Run sleeps until the earliest next run of an enabled schedule, or until a schedule changes;
// it never polls. For each due schedule it first moves NextRunAt to the next time after now,
// then skips the fire, recording nothing, when:
//   - the agent's autonomy is off (Gate), or the gate fails (the agent is gone);
//   - the previous fire of the schedule is still running: fires never pile up;
//   - its time passed more than MisfireGrace ago (the server was down): no catch-up burst.
//
// Otherwise it calls fire under the effective timeout (the schedule's own, capped by the
// agent's execution timeout) and records an Execution. A second Run while one runs fails
// (errdefs.ErrFailedPrecondition).
func (s *Service) Run(ctx context.Context, fire Fire) error {
	if !s.looping.CompareAndSwap(false, true) {
		return errdefs.FailedPrecondition("the schedule runner is already running")
	}
	defer s.looping.Store(false)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		next := s.tick(ctx, fire, &wg)
		var t Timer
		var c <-chan time.Time
		if !next.IsZero() {
			t = s.opts.NewTimer(next)
			c = t.C()
		}
		select {
		case <-ctx.Done():
		case <-c:
		case <-s.wake:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// tick starts the fires that are due and returns when Run should look again (zero: only when
// woken).
func (s *Service) tick(ctx context.Context, fire Fire, wg *sync.WaitGroup) time.Time {
	scs, err := s.store.ListSchedules(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			s.opts.Log.Error("list schedules", "op", "schedule.run", "err", err)
		}
		return s.now().Add(retryAfter)
	}
	now := s.now()
	var earliest time.Time
	for _, sc := range scs {
		if !sc.Enabled || sc.NextRunAt == nil {
			continue
		}
		next := *sc.NextRunAt
		if !next.After(now) {
			next = s.due(ctx, sc, now, fire, wg)
		}
		if !next.IsZero() && (earliest.IsZero() || next.Before(earliest)) {
			earliest = next
		}
	}
	return earliest
}

// due handles a schedule whose time has come and returns its next time.
func (s *Service) due(ctx context.Context, sc Schedule, now time.Time, fire Fire, wg *sync.WaitGroup) time.Time {
	log := s.opts.Log.With("op", "schedule.fire", "schedule", sc.ID, "agent", sc.AgentID)
	spec, err := ParseCron(sc.CronExpression, sc.Timezone)
	if err != nil {
		log.Error("stored schedule does not parse; not fired", "err", err)
		return time.Time{}
	}
	next := spec.Next(now)
	// Advance first: a fire that cannot be accounted for is not started. Only the runner
	// that moves the due time fires: another replica's runner (leadership can overlap) or
	// an edit made since the listing got there first.
	moved, err := s.store.AdvanceNextRun(ctx, sc.ID, *sc.NextRunAt, next)
	switch {
	case err != nil:
		log.Error("advance next run", "err", err)
		return now.Add(retryAfter)
	case !moved:
		log.Debug("due time already moved (another runner, or an edit); not fired here")
		return next
	}
	if late := now.Sub(*sc.NextRunAt); late > s.opts.MisfireGrace {
		log.Warn("schedule missed its time; skipped to the next", "late", late.String())
		return next
	}
	if s.isRunning(sc.ID) {
		log.Info("previous fire still running; this one skipped")
		return next
	}
	enabled, limit, err := s.opts.Gate(ctx, sc.AgentID)
	switch {
	case err != nil:
		log.Warn("autonomy gate failed; skipped", "err", err)
		return next
	case !enabled:
		log.Debug("autonomy off; skipped")
		return next
	}
	s.setRunning(sc.ID, true)
	wg.Add(1)
	go func() {
		defer wg.Done()
		e := s.fire(ctx, sc, effectiveTimeout(sc, limit), fire)
		// Cleared before recording, so that whoever sees the record may count on the next
		// due time firing.
		s.setRunning(sc.ID, false)
		s.record(ctx, log, e)
	}()
	return next
}

// effectiveTimeout is the schedule's own timeout capped by the agent's (which defaults to
// MaxTimeout when the gate gives none).
func effectiveTimeout(sc Schedule, agent time.Duration) time.Duration {
	if agent <= 0 {
		agent = MaxTimeout
	}
	if sc.TimeoutSeconds != nil {
		if own := time.Duration(*sc.TimeoutSeconds) * time.Second; own > 0 && own < agent {
			return own
		}
	}
	return agent
}

// fire runs one fire and returns its record.
func (s *Service) fire(ctx context.Context, sc Schedule, timeout time.Duration, fire Fire) *Execution {
	start := s.now()
	fctx, cancel := context.WithTimeout(ctx, timeout)
	out, err := fire(fctx, sc.AgentID, sc)
	timedOut := errors.Is(fctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
	cancel()
	e := &Execution{ID: newID("exe_"), ScheduleID: sc.ID, AgentID: sc.AgentID, Status: StatusSuccess,
		StartedAt: start, FinishedAt: s.now(), Message: sc.Message, Output: tail(out)}
	if sc.Command != "" {
		e.Message = sc.Command
	}
	switch {
	case timedOut:
		e.Status, e.Error = StatusTimeout, "timed out after "+timeout.String()
	case err != nil:
		e.Status, e.Error = StatusFailed, err.Error()
	}
	return e
}

// record stores an execution and its schedule's last run, even when the server is stopping:
// the fire happened.
func (s *Service) record(ctx context.Context, log *slog.Logger, e *Execution) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.store.SetLastRun(wctx, e.ScheduleID, e.StartedAt); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		log.Error("record last run", "err", err)
	}
	if err := s.store.PutExecution(wctx, e); err != nil {
		log.Error("record execution", "err", err)
	}
	log.Info("schedule fired", "status", e.Status, "dur", e.FinishedAt.Sub(e.StartedAt).String())
}

func (s *Service) isRunning(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
}

func (s *Service) setRunning(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.running[id] = true
	} else {
		delete(s.running, id)
	}
}

// tail is the last MaxOutput bytes of out, starting on a character boundary.
func tail(out string) string {
	if len(out) <= MaxOutput {
		return out
	}
	out = out[len(out)-MaxOutput:]
	for i := 0; i < utf8.UTFMax && i < len(out); i++ {
		if utf8.RuneStart(out[i]) {
			return out[i:]
		}
	}
	return out
}
