package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/schedule"
)

// RunSchedules is the conformance suite of schedule.Store; newStore returns an empty store.
func RunSchedules(t *testing.T, newStore func(t *testing.T) schedule.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testScheduleRoundTrip(t, newStore(t)) })
	t.Run("Errors", func(t *testing.T) { testScheduleErrors(t, newStore(t)) })
	t.Run("RunTimes", func(t *testing.T) { testScheduleRunTimes(t, newStore(t)) })
	t.Run("AdvanceOnce", func(t *testing.T) { testScheduleAdvanceOnce(t, newStore(t)) })
	t.Run("DeleteAgent", func(t *testing.T) { testScheduleDeleteAgent(t, newStore(t)) })
	t.Run("Executions", func(t *testing.T) { testScheduleExecutions(t, newStore(t)) })
}

// sched returns a schedule with every field set.
func sched(id, agent string, created time.Time) *schedule.Schedule {
	timeout, last, next := 300, created.Add(time.Minute), created.Add(time.Hour)
	return &schedule.Schedule{ID: id, AgentID: agent, Name: "daily " + id, CronExpression: "0 9 * * *", Timezone: "Europe/Berlin",
		Message: "summarise the news", Command: "make report", Enabled: true, Description: "desc of " + id,
		TimeoutSeconds: &timeout, CreatedAt: created, UpdatedAt: created.Add(time.Second), LastRunAt: &last, NextRunAt: &next}
}

func utcSchedule(s schedule.Schedule) schedule.Schedule {
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	for _, p := range []**time.Time{&s.LastRunAt, &s.NextRunAt} {
		if *p != nil {
			v := (*p).UTC()
			*p = &v
		}
	}
	return s
}

func sameSchedule(t *testing.T, what string, got, want schedule.Schedule) {
	t.Helper()
	if !reflect.DeepEqual(utcSchedule(got), utcSchedule(want)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// scheduleIDs lists the IDs of an agent's schedules ("" = every agent's).
func scheduleIDs(t *testing.T, s schedule.Store, agentID string) []string {
	t.Helper()
	scs, err := s.ListSchedules(context.Background(), agentID)
	must(t, "list", err)
	out := []string{}
	for _, s := range scs {
		out = append(out, s.ID)
	}
	return out
}

func testScheduleRoundTrip(t *testing.T, s schedule.Store) {
	ctx := context.Background()
	want := sched("sch_1", "agt_a", epoch)
	if zero := zeroFields(reflect.ValueOf(*want), "Schedule"); len(zero) > 0 {
		t.Fatalf("fixture leaves fields unset: %v", zero)
	}
	must(t, "create", s.CreateSchedule(ctx, want))
	must(t, "create 2", s.CreateSchedule(ctx, sched("sch_2", "agt_b", epoch.Add(-time.Second))))
	must(t, "create 3", s.CreateSchedule(ctx, sched("sch_3", "agt_a", epoch.Add(time.Second))))
	got, err := s.GetSchedule(ctx, "sch_1")
	must(t, "get", err)
	sameSchedule(t, "get", *got, *want)

	// The store keeps copies: changing what it returned changes nothing stored.
	*got.TimeoutSeconds, got.Name = 1, "changed"
	again, _ := s.GetSchedule(ctx, "sch_1")
	sameSchedule(t, "after changing a returned copy", *again, *want)

	sameStrings(t, "list agt_a", scheduleIDs(t, s, "agt_a"), []string{"sch_1", "sch_3"})
	sameStrings(t, "list all", scheduleIDs(t, s, ""), []string{"sch_2", "sch_1", "sch_3"})
	sameStrings(t, "list none", scheduleIDs(t, s, "agt_x"), []string{})

	upd := *want
	upd.Name, upd.Enabled, upd.TimeoutSeconds, upd.Description = "renamed", false, nil, ""
	must(t, "update", s.UpdateSchedule(ctx, &upd))
	got, err = s.GetSchedule(ctx, "sch_1")
	must(t, "get after update", err)
	sameSchedule(t, "after update", *got, upd)

	must(t, "delete", s.DeleteSchedule(ctx, "sch_1"))
	must(t, "delete again", s.DeleteSchedule(ctx, "sch_1"))
	if _, err := s.GetSchedule(ctx, "sch_1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("get deleted: %v, want not found", err)
	}
}

func testScheduleErrors(t *testing.T, s schedule.Store) {
	ctx := context.Background()
	must(t, "create", s.CreateSchedule(ctx, sched("sch_1", "agt_a", epoch)))
	if err := s.CreateSchedule(ctx, sched("sch_1", "agt_b", epoch)); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate ID: %v, want already exists", err)
	}
	for name, err := range map[string]error{
		"get":      func() error { _, err := s.GetSchedule(ctx, "nope"); return err }(),
		"update":   s.UpdateSchedule(ctx, sched("nope", "agt_a", epoch)),
		"next run": func() error { _, err := s.AdvanceNextRun(ctx, "nope", epoch, epoch); return err }(),
		"last run": s.SetLastRun(ctx, "nope", epoch),
	} {
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s of a missing schedule: %v, want not found", name, err)
		}
	}
}

func testScheduleRunTimes(t *testing.T, s schedule.Store) {
	ctx := context.Background()
	want := sched("sch_1", "agt_a", epoch)
	must(t, "create", s.CreateSchedule(ctx, want))
	last, next := epoch.Add(2*time.Hour), epoch.Add(3*time.Hour)
	from := *want.NextRunAt
	moved, err := s.AdvanceNextRun(ctx, "sch_1", from, next)
	must(t, "advance next", err)
	if !moved {
		t.Fatal("advance from the stored next run did not move it")
	}
	// A second runner that read the same due time loses: exactly one fires.
	if moved, err := s.AdvanceNextRun(ctx, "sch_1", from, next.Add(time.Hour)); err != nil || moved {
		t.Errorf("advance from a stale due time: moved %v, %v; want false, nil", moved, err)
	}
	must(t, "set last", s.SetLastRun(ctx, "sch_1", last))
	want.LastRunAt, want.NextRunAt = &last, &next
	got, err := s.GetSchedule(ctx, "sch_1")
	must(t, "get", err)
	sameSchedule(t, "after setting run times", *got, *want)

	// An update made with a stale copy keeps the last run the runner wrote.
	stale := sched("sch_1", "agt_a", epoch)
	stale.Name = "edited"
	must(t, "update", s.UpdateSchedule(ctx, stale))
	got, _ = s.GetSchedule(ctx, "sch_1")
	if got.LastRunAt == nil || !got.LastRunAt.Equal(last) || got.Name != "edited" || !got.NextRunAt.Equal(*stale.NextRunAt) {
		t.Errorf("after a stale update: last %v (want %v), next %v (want %v), name %q", got.LastRunAt, last, got.NextRunAt, stale.NextRunAt, got.Name)
	}
	moved, err = s.AdvanceNextRun(ctx, "sch_1", *stale.NextRunAt, time.Time{})
	if err != nil || !moved {
		t.Fatalf("clear next: moved %v, %v", moved, err)
	}
	if got, _ = s.GetSchedule(ctx, "sch_1"); got.NextRunAt != nil {
		t.Errorf("next run after clearing = %v, want nil", got.NextRunAt)
	}
}

func execution(id, schedID, agent string, started time.Time) *schedule.Execution {
	return &schedule.Execution{ID: id, ScheduleID: schedID, AgentID: agent, Status: schedule.StatusFailed, StartedAt: started,
		FinishedAt: started.Add(1500 * time.Millisecond), Message: "make report", Output: "out of " + id, Error: "exit status 2"}
}

// testScheduleAdvanceOnce has several runners (replicas) find one due time at once: exactly
// one of them moves it, so the schedule fires once.
func testScheduleAdvanceOnce(t *testing.T, s schedule.Store) {
	ctx := context.Background()
	sc := sched("sch_1", "agt_a", epoch)
	must(t, "create", s.CreateSchedule(ctx, sc))
	const runners = 8
	var moves atomic.Int32
	var wg sync.WaitGroup
	for i := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			moved, err := s.AdvanceNextRun(ctx, "sch_1", *sc.NextRunAt, sc.NextRunAt.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				t.Errorf("runner %d: %v", i, err)
			}
			if moved {
				moves.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := moves.Load(); n != 1 {
		t.Errorf("%d of %d runners moved the same due time, want exactly 1", n, runners)
	}
}

func testScheduleDeleteAgent(t *testing.T, s schedule.Store) {
	ctx := context.Background()
	must(t, "create a1", s.CreateSchedule(ctx, sched("sch_a1", "agt_a", epoch)))
	must(t, "create a2", s.CreateSchedule(ctx, sched("sch_a2", "agt_a", epoch)))
	must(t, "create b1", s.CreateSchedule(ctx, sched("sch_b1", "agt_b", epoch)))
	must(t, "exec a", s.PutExecution(ctx, execution("exe_a", "sch_a1", "agt_a", epoch)))
	must(t, "exec b", s.PutExecution(ctx, execution("exe_b", "sch_b1", "agt_b", epoch)))
	must(t, "delete agent", s.DeleteAgentSchedules(ctx, "agt_a"))
	must(t, "delete agent again", s.DeleteAgentSchedules(ctx, "agt_a"))
	sameStrings(t, "left", scheduleIDs(t, s, ""), []string{"sch_b1"})
	exs, err := s.ListExecutions(ctx, schedule.ExecutionFilter{})
	must(t, "list executions", err)
	if len(exs) != 1 || exs[0].ID != "exe_b" {
		t.Errorf("executions left = %+v, want exe_b only", exs)
	}
}

func testScheduleExecutions(t *testing.T, s schedule.Store) {
	ctx := context.Background()
	want := execution("exe_1", "sch_1", "agt_a", epoch)
	if zero := zeroFields(reflect.ValueOf(*want), "Execution"); len(zero) > 0 {
		t.Fatalf("fixture leaves fields unset: %v", zero)
	}
	must(t, "put 1", s.PutExecution(ctx, want))
	must(t, "put 2", s.PutExecution(ctx, execution("exe_2", "sch_2", "agt_a", epoch.Add(time.Second))))
	must(t, "put 3", s.PutExecution(ctx, execution("exe_3", "sch_1", "agt_a", epoch.Add(2*time.Second))))
	must(t, "put 4", s.PutExecution(ctx, execution("exe_4", "sch_9", "agt_b", epoch.Add(3*time.Second))))
	repl := *want
	repl.Status, repl.Error = schedule.StatusSuccess, ""
	must(t, "replace 1", s.PutExecution(ctx, &repl))

	ids := func(f schedule.ExecutionFilter) []string {
		exs, err := s.ListExecutions(ctx, f)
		must(t, "list", err)
		out := []string{}
		for _, e := range exs {
			out = append(out, e.ID)
		}
		return out
	}
	sameStrings(t, "all", ids(schedule.ExecutionFilter{}), []string{"exe_4", "exe_3", "exe_2", "exe_1"})
	sameStrings(t, "agent a", ids(schedule.ExecutionFilter{AgentID: "agt_a"}), []string{"exe_3", "exe_2", "exe_1"})
	sameStrings(t, "schedule 1", ids(schedule.ExecutionFilter{AgentID: "agt_a", ScheduleID: "sch_1"}), []string{"exe_3", "exe_1"})
	sameStrings(t, "limit", ids(schedule.ExecutionFilter{AgentID: "agt_a", Limit: 2}), []string{"exe_3", "exe_2"})

	exs, err := s.ListExecutions(ctx, schedule.ExecutionFilter{ScheduleID: "sch_1"})
	must(t, "list sch_1", err)
	got := exs[len(exs)-1]
	got.StartedAt, got.FinishedAt = got.StartedAt.UTC(), got.FinishedAt.UTC()
	if !reflect.DeepEqual(got, repl) {
		t.Errorf("replaced execution:\n got %+v\nwant %+v", got, repl)
	}
}
