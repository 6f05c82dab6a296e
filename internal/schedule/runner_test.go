package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/store/memory"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// recordingStore tells the test about every execution recorded.
type recordingStore struct {
	schedule.Store
	execs chan schedule.Execution
}

func (s *recordingStore) PutExecution(ctx context.Context, e *schedule.Execution) error {
	err := s.Store.PutExecution(ctx, e)
	s.execs <- *e
	return err
}

// gate is an autonomy gate the test switches.
type gate struct {
	on      atomic.Bool
	timeout atomic.Int64 // seconds
}

func (g *gate) fn(_ context.Context, agentID string) (bool, time.Duration, error) {
	if agentID == "agt_gone" {
		return false, 0, errors.New("agent agt_gone not found")
	}
	return g.on.Load(), time.Duration(g.timeout.Load()) * time.Second, nil
}

type harness struct {
	svc   *schedule.Service
	clock *fakeClock
	store *recordingStore
	gate  *gate
}

func newHarness(t *testing.T) *harness {
	h := &harness{clock: newFakeClock(t0), store: &recordingStore{Store: memory.NewSchedules(), execs: make(chan schedule.Execution, 100)}, gate: &gate{}}
	h.gate.on.Store(true)
	h.gate.timeout.Store(600)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.svc = schedule.New(h.store, schedule.Options{Gate: h.gate.fn, Now: h.clock.Now, NewTimer: h.clock.NewTimer, Log: log})
	return h
}

// run starts the runner with fire and stops it when the test ends.
func (h *harness) run(t *testing.T, fire schedule.Fire) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx, fire) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run ended with %v, want context.Canceled", err)
		}
	})
}

func (h *harness) create(t *testing.T, agentID, cron string, timeout *int) *schedule.Schedule {
	t.Helper()
	sc, err := h.svc.Create(context.Background(), agentID, schedule.CreateRequest{Name: "tick", CronExpression: cron, Message: "say hi", TimeoutSeconds: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func (h *harness) waitExec(t *testing.T) schedule.Execution {
	t.Helper()
	select {
	case e := <-h.store.execs:
		return e
	case <-time.After(10 * time.Second): // only reached when the test fails
		t.Fatal("no execution recorded")
		return schedule.Execution{}
	}
}

func (h *harness) executions(t *testing.T) []schedule.Execution {
	t.Helper()
	exs, err := h.store.ListExecutions(context.Background(), schedule.ExecutionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

func (h *harness) get(t *testing.T, id string) *schedule.Schedule {
	t.Helper()
	sc, err := h.store.GetSchedule(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestRunFires(t *testing.T) {
	h := newHarness(t)
	sc := h.create(t, "agt_a", "*/10 * * * * *", nil)
	fired := make(chan schedule.Schedule, 10)
	h.run(t, func(ctx context.Context, agentID string, s schedule.Schedule) (string, error) {
		if agentID != "agt_a" {
			t.Errorf("fired for %q", agentID)
		}
		fired <- s
		return "hi there", nil
	})
	h.clock.waitTimer(t, t0.Add(10*time.Second))
	h.clock.Set(t0.Add(10 * time.Second))
	e := h.waitExec(t)
	if s := <-fired; s.ID != sc.ID || s.Message != "say hi" {
		t.Errorf("fired %+v", s)
	}
	if e.Status != schedule.StatusSuccess || e.Output != "hi there" || e.Error != "" || e.ScheduleID != sc.ID ||
		e.AgentID != "agt_a" || e.Message != "say hi" || !e.StartedAt.Equal(t0.Add(10*time.Second)) || e.FinishedAt.Before(e.StartedAt) {
		t.Errorf("execution = %+v", e)
	}
	h.clock.waitTimer(t, t0.Add(20*time.Second))
	got := h.get(t, sc.ID)
	if got.LastRunAt == nil || !got.LastRunAt.Equal(t0.Add(10*time.Second)) || !got.NextRunAt.Equal(t0.Add(20*time.Second)) {
		t.Errorf("after the fire: last %v, next %v", got.LastRunAt, got.NextRunAt)
	}

	h.clock.Set(t0.Add(20 * time.Second))
	if e := h.waitExec(t); !e.StartedAt.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("second fire: %+v", e)
	}
}

func TestRunFailure(t *testing.T) {
	h := newHarness(t)
	h.create(t, "agt_a", "*/10 * * * * *", nil)
	big := strings.Repeat("x", schedule.MaxOutput) + "é-end"
	h.run(t, func(context.Context, string, schedule.Schedule) (string, error) {
		return big, errors.New("exit status 3")
	})
	h.clock.waitTimer(t, t0.Add(10*time.Second))
	h.clock.Set(t0.Add(10 * time.Second))
	e := h.waitExec(t)
	if e.Status != schedule.StatusFailed || e.Error != "exit status 3" {
		t.Errorf("execution = %+v", e)
	}
	if len(e.Output) > schedule.MaxOutput || !strings.HasSuffix(e.Output, "é-end") || !strings.HasPrefix(e.Output, "x") {
		t.Errorf("output kept %d bytes, ending %q", len(e.Output), e.Output[len(e.Output)-8:])
	}
}

// TestRunAutonomyGate: with autonomy off a due schedule is skipped, nothing is recorded and
// its own enabled flag stays; with autonomy on again it fires at its next time.
func TestRunAutonomyGate(t *testing.T) {
	h := newHarness(t)
	h.gate.on.Store(false)
	sc := h.create(t, "agt_a", "*/10 * * * * *", nil)
	var fires atomic.Int32
	h.run(t, func(context.Context, string, schedule.Schedule) (string, error) {
		fires.Add(1)
		return "", nil
	})
	h.clock.waitTimer(t, t0.Add(10*time.Second))
	h.clock.Set(t0.Add(10 * time.Second))
	h.clock.waitTimer(t, t0.Add(20*time.Second)) // the skip is done
	got := h.get(t, sc.ID)
	if !got.Enabled || got.LastRunAt != nil || !got.NextRunAt.Equal(t0.Add(20*time.Second)) {
		t.Errorf("after a gated skip: enabled %v, last %v, next %v", got.Enabled, got.LastRunAt, got.NextRunAt)
	}
	if n := len(h.executions(t)); n != 0 {
		t.Errorf("%d executions recorded while autonomy was off", n)
	}

	h.gate.on.Store(true)
	h.clock.Set(t0.Add(20 * time.Second))
	h.waitExec(t)
	if n, f := len(h.executions(t)), fires.Load(); n != 1 || f != 1 {
		t.Errorf("%d executions, %d fires; want 1 and 1", n, f)
	}
}

// TestRunNoPileUp: a fire still running when the schedule is due again is not doubled.
func TestRunNoPileUp(t *testing.T) {
	h := newHarness(t)
	h.create(t, "agt_a", "*/10 * * * * *", nil)
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var fires atomic.Int32
	h.run(t, func(ctx context.Context, _ string, _ schedule.Schedule) (string, error) {
		started <- struct{}{}
		if fires.Add(1) == 1 {
			<-release
		}
		return "done", nil
	})
	h.clock.waitTimer(t, t0.Add(10*time.Second))
	h.clock.Set(t0.Add(10 * time.Second))
	<-started
	h.clock.waitTimer(t, t0.Add(20*time.Second))
	h.clock.Set(t0.Add(20 * time.Second))
	h.clock.waitTimer(t, t0.Add(30*time.Second)) // the second time was handled: skipped
	close(release)
	h.waitExec(t)
	h.clock.Set(t0.Add(30 * time.Second))
	h.waitExec(t)
	if f := fires.Load(); f != 2 {
		t.Errorf("%d fires for three due times with the first outlasting the second, want 2", f)
	}
}

// TestRunTimeouts: the fire runs under the schedule's timeout capped by the agent's, and a
// fire that runs out of time is recorded as a timeout.
func TestRunTimeouts(t *testing.T) {
	cases := []struct {
		agent, own int
		want       time.Duration
	}{
		{600, 0, 600 * time.Second},
		{600, 120, 120 * time.Second},
		{600, 900, 600 * time.Second}, // the agent's timeout was lowered after the schedule was made
		{0, 0, schedule.MaxTimeout},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("agent%d-own%d", c.agent, c.own), func(t *testing.T) {
			h := newHarness(t)
			h.gate.timeout.Store(7200)
			var own *int
			if c.own > 0 {
				own = &c.own
			}
			h.create(t, "agt_a", "*/10 * * * * *", own)
			h.gate.timeout.Store(int64(c.agent))
			left := make(chan time.Duration, 1)
			h.run(t, func(ctx context.Context, _ string, _ schedule.Schedule) (string, error) {
				d, _ := ctx.Deadline()
				left <- time.Until(d)
				return "partial", fmt.Errorf("killed: %w", context.DeadlineExceeded)
			})
			h.clock.waitTimer(t, t0.Add(10*time.Second))
			h.clock.Set(t0.Add(10 * time.Second))
			e := h.waitExec(t)
			if got := <-left; got > c.want || got < c.want-time.Minute {
				t.Errorf("fire had %v left, want %v", got, c.want)
			}
			if e.Status != schedule.StatusTimeout || e.Output != "partial" || !strings.Contains(e.Error, c.want.String()) {
				t.Errorf("execution = %+v", e)
			}
		})
	}
}

// TestRunMisfire: a time missed by more than the grace (the server was down) is skipped to
// the next one, without a catch-up fire; a gone agent is skipped too.
func TestRunMisfire(t *testing.T) {
	h := newHarness(t)
	sc := h.create(t, "agt_a", "0 * * * *", nil) // hourly, next at 13:00
	gone := h.create(t, "agt_gone", "0 * * * *", nil)
	h.clock.Set(t0.Add(3*time.Hour + 30*time.Minute))
	var fires atomic.Int32
	h.run(t, func(context.Context, string, schedule.Schedule) (string, error) { fires.Add(1); return "", nil })
	h.clock.waitTimer(t, t0.Add(4*time.Hour))
	for _, id := range []string{sc.ID, gone.ID} {
		if got := h.get(t, id); !got.NextRunAt.Equal(t0.Add(4 * time.Hour)) {
			t.Errorf("%s next = %v, want 16:00", id, got.NextRunAt)
		}
	}
	h.clock.Set(t0.Add(4 * time.Hour))
	h.waitExec(t)
	h.clock.waitTimer(t, t0.Add(5*time.Hour))
	if n, f := len(h.executions(t)), fires.Load(); n != 1 || f != 1 {
		t.Errorf("%d executions, %d fires; want 1 and 1 (agt_a at 16:00 only)", n, f)
	}
}

// TestRunWakes: the runner sleeps without a timer while there is nothing to run and wakes
// for a new schedule, an edit and a delete.
func TestRunWakes(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var fired []string
	h.run(t, func(_ context.Context, _ string, s schedule.Schedule) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		fired = append(fired, s.Name)
		return "", nil
	})
	sc := h.create(t, "agt_a", "0 13 * * *", nil)
	h.clock.waitTimer(t, t0.Add(time.Hour))
	name, cron := "moved", "30 12 * * *"
	if _, err := h.svc.Update(context.Background(), "agt_a", sc.ID, schedule.UpdateRequest{Name: &name, CronExpression: &cron}); err != nil {
		t.Fatal(err)
	}
	h.clock.waitTimer(t, t0.Add(30*time.Minute))
	h.clock.Set(t0.Add(30 * time.Minute))
	h.waitExec(t)
	if err := h.svc.Delete(context.Background(), "agt_a", sc.ID); err != nil {
		t.Fatal(err)
	}
	h.create(t, "agt_a", "0 15 * * *", nil)
	h.clock.waitTimer(t, t0.Add(3*time.Hour))
	mu.Lock()
	defer mu.Unlock()
	if len(fired) != 1 || fired[0] != "moved" {
		t.Errorf("fired %v, want [moved]", fired)
	}
}

// TestRunStopsWithContext: cancelling Run cancels the fires under way, records them, and
// returns only then.
func TestRunStopsWithContext(t *testing.T) {
	h := newHarness(t)
	h.create(t, "agt_a", "*/10 * * * * *", nil)
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.svc.Run(ctx, func(ctx context.Context, _ string, _ schedule.Schedule) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
	}()
	h.clock.waitTimer(t, t0.Add(10*time.Second))
	if err := h.svc.Run(ctx, nil); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("a second Run = %v, want failed precondition", err)
	}
	h.clock.Set(t0.Add(10 * time.Second))
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	select {
	case e := <-h.store.execs:
		if e.Status != schedule.StatusFailed {
			t.Errorf("cancelled fire recorded as %+v", e)
		}
	default:
		t.Error("Run returned before recording the fire it cancelled")
	}
}
