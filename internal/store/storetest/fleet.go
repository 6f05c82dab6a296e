package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
)

// RunFleet is the conformance suite of fleet.Store; newStore returns an empty store.
func RunFleet(t *testing.T, newStore func(t *testing.T) fleet.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testAgentRoundTrip(t, newStore(t)) })
	t.Run("Duplicates", func(t *testing.T) { testAgentDuplicates(t, newStore(t)) })
	t.Run("UpdateAndRename", func(t *testing.T) { testAgentUpdate(t, newStore(t)) })
	t.Run("ListOrder", func(t *testing.T) { testAgentList(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testAgentDelete(t, newStore(t)) })
	t.Run("Log", func(t *testing.T) { testAgentLog(t, newStore(t)) })
	t.Run("ConcurrentSameName", func(t *testing.T) { testAgentConcurrentName(t, newStore(t)) })
}

// agent returns an agent with every field set.
func agent(id, name string, created time.Time) *fleet.Agent {
	return &fleet.Agent{ID: id, Name: name, Owner: "usr_alice", Type: "business-assistant", Template: "github:Org/repo",
		Runtime: "claude-code", RuntimeModel: "sonnet-4.5", Resources: fleet.Resources{CPU: "2", Memory: "4g"},
		CustomInstructions: "be brief", GithubRepo: "Org/repo", Tags: []string{"prod", "research"},
		SandboxID: "i" + id, WorkspaceVolume: "ws-" + id, AutonomyEnabled: true,
		ReadOnly:                fleet.ReadOnly{Enabled: true, BlockedPatterns: []string{"*.py"}, AllowedPatterns: []string{"output/*"}},
		ExecutionTimeoutSeconds: 900, Folders: fleet.Folders{Expose: true, Consume: true}, CreatedAt: created}
}

func testAgentRoundTrip(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	want := agent("agt_1", "one", epoch)
	if zero := zeroFields(reflect.ValueOf(*want), "Agent"); len(zero) > 0 {
		t.Fatalf("fixture leaves fields unset: %v", zero)
	}
	if err := s.CreateAgent(ctx, want); err != nil {
		t.Fatal(err)
	}
	want.Tags[0] = "changed" // the store keeps its own copy
	want.Tags[0] = "prod"
	for _, key := range []string{"agt_1", "one"} {
		got, err := s.GetAgent(ctx, key)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("get %s:\n got %+v %v\nwant %+v", key, got, err, want)
		}
		got.Tags[0] = "mutated"
	}
	if again, _ := s.GetAgent(ctx, "one"); again.Tags[0] != "prod" {
		t.Errorf("a returned agent shares memory with the store: %v", again.Tags)
	}
	if _, err := s.GetAgent(ctx, "nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
	if err := s.CreateAgent(ctx, &fleet.Agent{ID: "agt_x"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("agent without a name: %v", err)
	}
}

func testAgentDuplicates(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	if err := s.CreateAgent(ctx, agent("agt_1", "one", epoch)); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*fleet.Agent{agent("agt_1", "other", epoch), agent("agt_2", "one", epoch)} {
		if err := s.CreateAgent(ctx, a); !errors.Is(err, errdefs.ErrAlreadyExists) {
			t.Errorf("create %s/%s: %v, want already exists", a.ID, a.Name, err)
		}
	}
}

func testAgentUpdate(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	for _, a := range []*fleet.Agent{agent("agt_1", "one", epoch), agent("agt_2", "two", epoch.Add(time.Second))} {
		if err := s.CreateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := s.GetAgent(ctx, "one")
	a.Name, a.AutonomyEnabled = "uno", false
	if err := s.UpdateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetAgent(ctx, "uno"); err != nil || got.ID != "agt_1" || got.AutonomyEnabled {
		t.Errorf("after rename: %+v %v", got, err)
	}
	if _, err := s.GetAgent(ctx, "one"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("old name still found: %v", err)
	}
	a.Name = "two"
	if err := s.UpdateAgent(ctx, a); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("rename to a taken name: %v", err)
	}
	if err := s.UpdateAgent(ctx, agent("agt_9", "nine", epoch)); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
}

func testAgentList(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	if got, err := s.ListAgents(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty list: %v %v", got, err)
	}
	for i, name := range []string{"c", "a", "b"} {
		if err := s.CreateAgent(ctx, agent("agt_"+name, name, epoch.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "c,a,b" {
		t.Errorf("order %v, want oldest first c,a,b", names)
	}
}

func testAgentDelete(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	if err := s.CreateAgent(ctx, agent("agt_1", "one", epoch)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAgentLog(ctx, "agt_1", []byte("line\n"), 100); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgent(ctx, "agt_1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgent(ctx, "agt_1"); err != nil {
		t.Errorf("delete again: %v", err)
	}
	if _, err := s.GetAgent(ctx, "one"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("deleted agent found: %v", err)
	}
	if err := s.CreateAgent(ctx, agent("agt_1", "one", epoch)); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	if b, err := s.AgentLog(ctx, "agt_1"); err != nil || len(b) != 0 {
		t.Errorf("log survived delete: %q %v", b, err)
	}
}

func testAgentLog(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	if err := s.AppendAgentLog(ctx, "agt_none", []byte("x"), 10); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("append to unknown: %v", err)
	}
	if err := s.CreateAgent(ctx, agent("agt_1", "one", epoch)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.AgentLog(ctx, "agt_1"); err != nil || len(b) != 0 {
		t.Errorf("fresh log %q %v", b, err)
	}
	for _, chunk := range []string{"first line\n", "second line\n", "third\n"} {
		if err := s.AppendAgentLog(ctx, "agt_1", []byte(chunk), 20); err != nil {
			t.Fatal(err)
		}
	}
	// "first line\nsecond line\n" bounded to 20 keeps "second line\n" (cut at a line start).
	if b, _ := s.AgentLog(ctx, "agt_1"); string(b) != "second line\nthird\n" {
		t.Errorf("bounded log %q, want %q", b, "second line\nthird\n")
	}
}

func testAgentConcurrentName(t *testing.T, s fleet.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateAgent(ctx, agent("agt_"+string(rune('a'+i)), "same", epoch))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errdefs.ErrAlreadyExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d creates of one name succeeded, want 1", ok)
	}
}
