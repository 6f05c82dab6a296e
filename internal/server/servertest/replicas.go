package servertest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
)

// Status is the HTTP status of a client error (0 for other errors).
func Status(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// CreateRace creates one name through every replica at once, rounds times, each round with a
// fresh name: exactly one create must win and the others answer 409. The winner is deleted
// (through a replica that takes turns) before the next round.
func CreateRace(t testing.TB, ctx context.Context, replicas []*client.Client, rounds int) {
	t.Helper()
	for round := range rounds {
		name := "dup" + string(rune('a'+round))
		errs := make([]error, len(replicas))
		var wg sync.WaitGroup
		for i, c := range replicas {
			wg.Go(func() { _, errs[i] = c.CreateSandbox(ctx, apitype.CreateRequest{Name: name}) })
		}
		wg.Wait()
		won, lost := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case Status(err) == http.StatusConflict:
				lost++
			default:
				t.Errorf("create %s: %v", name, err)
			}
		}
		if won != 1 || lost != len(replicas)-1 {
			t.Fatalf("create %s from %d replicas: %d won, %d got 409 (errors %v), want 1 and %d",
				name, len(replicas), won, lost, errs, len(replicas)-1)
		}
		if err := replicas[round%len(replicas)].DeleteSandbox(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
}

// Leads is what a replica logs when it becomes the leader.
const Leads = "leader election: this replica leads"

// LeaderOf waits (15 s at most) until one of procs logs that it leads and returns its index.
func LeaderOf(t testing.TB, procs ...*Process) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for i, p := range procs {
			if strings.Contains(p.Logs.String(), Leads) {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no replica leads within 15 s")
	return -1
}

// KillLeader kills lead with SIGKILL and waits (15 s at most) until follow logs that it leads
// anew; it returns when the kill was made, and logs how long the takeover took.
func KillLeader(t testing.TB, lead, follow *Process) (killed time.Time) {
	t.Helper()
	before := strings.Count(follow.Logs.String(), Leads)
	lead.Kill(t)
	killed = time.Now()
	for strings.Count(follow.Logs.String(), Leads) == before {
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("the survivor does not lead 15 s after the leader's kill -9:\n%s", follow.Logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the survivor leads %v after the leader's kill -9", time.Since(killed).Round(time.Millisecond))
	return killed
}

// WaitGone polls until name is not found through c, failing after within.
func WaitGone(t testing.TB, c *client.Client, name string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, err := c.GetSandbox(context.Background(), name)
		if Status(err) == http.StatusNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there %v on (last: %v)", name, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
