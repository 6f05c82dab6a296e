package schedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/store/memory"
)

func ptr[T any](v T) *T { return &v }

func newService(t *testing.T, agentTimeout time.Duration) *schedule.Service {
	t.Helper()
	clock := newFakeClock(t0)
	return schedule.New(memory.NewSchedules(), schedule.Options{Now: clock.Now, NewTimer: clock.NewTimer,
		Gate: func(context.Context, string) (bool, time.Duration, error) { return true, agentTimeout, nil }})
}

func TestCreateDefaults(t *testing.T) {
	svc := newService(t, 600*time.Second)
	sc, err := svc.Create(context.Background(), "agt_a", schedule.CreateRequest{Name: " nightly ", CronExpression: "0 9 * * *", Message: "report"})
	if err != nil {
		t.Fatal(err)
	}
	want := schedule.Schedule{ID: sc.ID, AgentID: "agt_a", Name: "nightly", CronExpression: "0 9 * * *", Timezone: "UTC", Message: "report",
		Enabled: true, CreatedAt: t0, UpdatedAt: t0, NextRunAt: ptr(time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC))}
	if !strings.HasPrefix(sc.ID, "sch_") || !reflect.DeepEqual(*sc, want) {
		t.Errorf("created\n %+v\nwant %+v", *sc, want)
	}
	got, err := svc.Get(context.Background(), "agt_a", sc.ID)
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("get = %+v, %v", got, err)
	}
}

func TestCreateRefuses(t *testing.T) {
	svc := newService(t, 600*time.Second)
	ok := schedule.CreateRequest{Name: "n", CronExpression: "0 9 * * *", Message: "m"}
	cases := []struct {
		name  string
		edit  func(*schedule.CreateRequest)
		field string
	}{
		{"bad cron", func(r *schedule.CreateRequest) { r.CronExpression = "0 25 * * *" }, "cron_expression"},
		{"no cron", func(r *schedule.CreateRequest) { r.CronExpression = " " }, "cron_expression"},
		{"bad zone", func(r *schedule.CreateRequest) { r.Timezone = "Atlantis/Capital" }, "timezone"},
		{"no name", func(r *schedule.CreateRequest) { r.Name = "  " }, "name"},
		{"long name", func(r *schedule.CreateRequest) { r.Name = strings.Repeat("n", 201) }, "name"},
		{"no message", func(r *schedule.CreateRequest) { r.Message = " " }, "message"},
		{"NUL command", func(r *schedule.CreateRequest) { r.Command = "ls\x00" }, "command"},
		{"long description", func(r *schedule.CreateRequest) { r.Description = ptr(strings.Repeat("d", 2001)) }, "description"},
		{"timeout too short", func(r *schedule.CreateRequest) { r.TimeoutSeconds = ptr(59) }, "timeout_seconds"},
		{"timeout too long", func(r *schedule.CreateRequest) { r.TimeoutSeconds = ptr(7201) }, "timeout_seconds"},
		{"timeout above the agent's", func(r *schedule.CreateRequest) { r.TimeoutSeconds = ptr(601) }, "timeout_seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := ok
			c.edit(&req)
			_, err := svc.Create(context.Background(), "agt_a", req)
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), c.field) {
				t.Errorf("create = %v, want invalid argument naming %s", err, c.field)
			}
		})
	}
	req := ok
	req.Message, req.Command, req.TimeoutSeconds = "", "make report", ptr(600)
	if _, err := svc.Create(context.Background(), "agt_a", req); err != nil {
		t.Errorf("a command without a message, timeout at the agent's: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	svc := newService(t, 600*time.Second)
	ctx := context.Background()
	sc, err := svc.Create(ctx, "agt_a", schedule.CreateRequest{Name: "n", CronExpression: "0 9 * * *", Message: "m", Description: ptr("d")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Update(ctx, "agt_a", sc.ID, schedule.UpdateRequest{Enabled: ptr(false), CronExpression: ptr("30 12 * * *"), Timezone: ptr("Europe/Berlin")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || got.Name != "n" || got.Message != "m" || got.Description != "d" || !got.NextRunAt.Equal(time.Date(2026, 5, 2, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("updated = %+v", got)
	}
	if got, err := svc.Update(ctx, "agt_a", sc.ID, schedule.UpdateRequest{TimeoutSeconds: ptr(300)}); err != nil || *got.TimeoutSeconds != 300 {
		t.Errorf("set a timeout: %+v, %v", got, err)
	}
	if got, err := svc.Update(ctx, "agt_a", sc.ID, schedule.UpdateRequest{TimeoutSeconds: ptr(0)}); err != nil || got.TimeoutSeconds != nil {
		t.Errorf("timeout_seconds 0 should go back to the agent's: %+v, %v", got, err)
	}
	if _, err := svc.Update(ctx, "agt_a", sc.ID, schedule.UpdateRequest{CronExpression: ptr("nope")}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad cron on update: %v", err)
	}
	if _, err := svc.Update(ctx, "agt_b", sc.ID, schedule.UpdateRequest{Name: ptr("x")}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("update through another agent: %v, want not found", err)
	}
	if stored, _ := svc.Get(ctx, "agt_a", sc.ID); stored.CronExpression != "30 12 * * *" || stored.Name != "n" {
		t.Errorf("a refused update changed the schedule: %+v", stored)
	}
}

func TestListCountsDelete(t *testing.T) {
	svc := newService(t, 600*time.Second)
	ctx := context.Background()
	var ids []string
	for i, en := range []bool{true, false, true} {
		sc, err := svc.Create(ctx, "agt_a", schedule.CreateRequest{Name: "n", CronExpression: "0 9 * * *", Message: "m", Enabled: ptr(en)})
		if err != nil {
			t.Fatal(i, err)
		}
		ids = append(ids, sc.ID)
	}
	if _, err := svc.Create(ctx, "agt_b", schedule.CreateRequest{Name: "n", CronExpression: "0 9 * * *", Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if total, enabled, err := svc.Counts(ctx, "agt_a"); total != 3 || enabled != 2 || err != nil {
		t.Errorf("counts = %d, %d, %v; want 3, 2", total, enabled, err)
	}
	if _, err := svc.Get(ctx, "agt_b", ids[0]); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("get through another agent: %v, want not found", err)
	}
	if err := svc.Delete(ctx, "agt_b", ids[0]); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("delete through another agent: %v, want not found", err)
	}
	if err := svc.Delete(ctx, "agt_a", ids[0]); err != nil {
		t.Fatal(err)
	}
	scs, _ := svc.List(ctx, "agt_a")
	var left []string
	for _, sc := range scs {
		left = append(left, sc.ID)
	}
	slices.Sort(left) // created at the same (fake) time: ordered by ID
	if slices.Sort(ids[1:]); !slices.Equal(left, ids[1:]) {
		t.Errorf("left %v, want %v", left, ids[1:])
	}
	if _, err := svc.Executions(ctx, "agt_a", ids[0], 0); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("executions of a deleted schedule: %v", err)
	}
	if err := svc.DeleteAgent(ctx, "agt_a"); err != nil {
		t.Fatal(err)
	}
	if total, _, _ := svc.Counts(ctx, "agt_a"); total != 0 {
		t.Errorf("%d schedules after DeleteAgent", total)
	}
	if total, _, _ := svc.Counts(ctx, "agt_b"); total != 1 {
		t.Errorf("agt_b lost its schedule: %d", total)
	}
}

// TestWireShapes keeps the JSON field names of Trinity's ScheduleResponse and
// ExecutionResponse.
func TestWireShapes(t *testing.T) {
	sc := schedule.Schedule{ID: "sch_1", AgentID: "agt_a", Name: "n", CronExpression: "0 9 * * *", Timezone: "UTC", Message: "m",
		Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	keys := func(v any) []string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"agent_name", "created_at", "cron_expression", "description", "enabled", "id", "last_run_at", "message",
		"name", "next_run_at", "timeout_seconds", "timezone", "updated_at"}
	if got := keys(schedule.ToResponse(sc, "research")); !slices.Equal(got, want) {
		t.Errorf("schedule keys %v, want %v", got, want)
	}
	e := schedule.Execution{ID: "exe_1", ScheduleID: "sch_1", AgentID: "agt_a", Status: schedule.StatusSuccess, StartedAt: t0,
		FinishedAt: t0.Add(1500 * time.Millisecond), Message: "m", Output: "o"}
	r := schedule.ToExecutionResponse(e, "research")
	if *r.DurationMS != 1500 || *r.Response != "o" || r.Error != nil || r.AgentName != "research" || r.TriggeredBy != "schedule" {
		t.Errorf("execution response = %+v", r)
	}
	want = []string{"agent_name", "completed_at", "duration_ms", "error", "id", "message", "response", "schedule_id", "started_at",
		"status", "triggered_by"}
	if got := keys(r); !slices.Equal(got, want) {
		t.Errorf("execution keys %v, want %v", got, want)
	}
}
