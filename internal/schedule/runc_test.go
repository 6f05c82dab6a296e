package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/engine/enginetest"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// skipStore tells the test about every next run the runner writes (fires and skips alike).
type skipStore struct {
	*recordingStore
	advanced chan time.Time
}

func (s *skipStore) AdvanceNextRun(ctx context.Context, id string, from, to time.Time) (bool, error) {
	moved, err := s.Store.AdvanceNextRun(ctx, id, from, to)
	s.advanced <- to
	return moved, err
}

// TestRuncScheduleFires runs a schedule every second on the real clock against a real runc
// sandbox, with Fire as the fleet implements it for a command (manager.Exec): it fires, stops
// firing while autonomy is off (its times still pass), and fires again when autonomy is on.
func TestRuncScheduleFires(t *testing.T) {
	testenv.NeedRunc(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := enginetest.Runc(t)
	sb, err := eng.Create(ctx, sandbox.Spec{Name: "sched-agent"}, "")
	if err != nil {
		t.Fatal(err)
	}

	// The gate counts the fires it let through, under a lock the test takes to switch it, so
	// that the test knows exactly how many fires began before autonomy went off.
	var gateMu sync.Mutex
	autonomy, allowed := true, 0
	setAutonomy := func(on bool) int {
		gateMu.Lock()
		defer gateMu.Unlock()
		autonomy = on
		return allowed
	}
	store := &skipStore{recordingStore: &recordingStore{Store: memory.NewSchedules(), execs: make(chan schedule.Execution, 100)},
		advanced: make(chan time.Time, 100)}
	svc := schedule.New(store, schedule.Options{Gate: func(context.Context, string) (bool, time.Duration, error) {
		gateMu.Lock()
		defer gateMu.Unlock()
		if autonomy {
			allowed++
		}
		return autonomy, 60 * time.Second, nil
	}})
	fire := func(ctx context.Context, _ string, s schedule.Schedule) (string, error) {
		deadline, _ := ctx.Deadline()
		res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: s.Command, Timeout: time.Until(deadline)})
		if err != nil {
			return "", err
		}
		out := string(res.Stdout) + string(res.Stderr)
		if res.ExitCode != 0 {
			return out, fmt.Errorf("exit status %d", res.ExitCode)
		}
		return out, nil
	}
	if _, err := svc.Create(ctx, "agt_runc", schedule.CreateRequest{Name: "tick", CronExpression: "* * * * * *",
		Command: "echo tick >> /tmp/ticks && wc -l < /tmp/ticks"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, fire) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	}()

	wait := func(what string) schedule.Execution {
		t.Helper()
		select {
		case e := <-store.execs:
			if e.Status != schedule.StatusSuccess {
				t.Fatalf("%s: %+v", what, e)
			}
			return e
		case <-time.After(30 * time.Second): // only reached when the test fails
			t.Fatalf("%s: no execution", what)
			return schedule.Execution{}
		}
	}
	first, second := wait("first fire"), wait("second fire")
	if strings.TrimSpace(first.Output) != "1" || strings.TrimSpace(second.Output) != "2" {
		t.Errorf("outputs %q, %q; want the count of ticks, 1 then 2", first.Output, second.Output)
	}

	// Once the fires let through before the switch are recorded, two due times pass gated.
	started := setAutonomy(false)
	for recorded := 2; recorded < started; recorded++ {
		wait("a fire begun before autonomy went off")
	}
	ticks := func() string {
		res, err := eng.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "wc -l < /tmp/ticks"})
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	paused := ticks()
	for len(store.advanced) > 0 {
		<-store.advanced
	}
	// Of the next three advances at most one was under way when the channel was drained.
	for range 3 {
		select {
		case <-store.advanced:
		case <-time.After(30 * time.Second): // only reached when the test fails
			t.Fatal("the runner stopped advancing while autonomy was off")
		}
	}
	if now := ticks(); now != paused || paused != fmt.Sprint(started) {
		t.Errorf("ticks went from %s to %s while autonomy was off (%d fires let through)", paused, now, started)
	}
	select {
	case e := <-store.execs:
		t.Errorf("an execution was recorded while autonomy was off: %+v", e)
	default:
	}

	setAutonomy(true)
	if e := wait("fire after autonomy is on again"); strings.TrimSpace(e.Output) == paused {
		t.Errorf("output %q: the command did not run again", e.Output)
	}
}
