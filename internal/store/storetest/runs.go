package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// RunRuns is the conformance suite of sandbox.RunStore; s must be empty.
func RunRuns(t *testing.T, s sandbox.RunStore) {
	ctx := context.Background()
	for i, owner := range []string{"alice", "bob", "alice"} {
		start := epoch.Add(time.Duration(i) * time.Second)
		r := sandbox.Run{Sandbox: fmt.Sprintf("run-%d", i), Owner: owner, Command: []string{"echo", fmt.Sprint(i)},
			ExitCode: i, StartedAt: start, FinishedAt: start.Add(time.Millisecond)}
		if err := s.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListRuns(ctx, "", 0)
	if err != nil || len(all) != 3 || all[0].Sandbox != "run-2" || all[2].Command[1] != "0" {
		t.Fatalf("all runs, newest first: %+v %v", all, err)
	}
	mine, err := s.ListRuns(ctx, "alice", 1)
	if err != nil || len(mine) != 1 || mine[0].Sandbox != "run-2" || !mine[0].StartedAt.Equal(epoch.Add(2*time.Second)) {
		t.Errorf("alice's latest run: %+v %v", mine, err)
	}
}
