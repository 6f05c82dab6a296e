// Package storetest is the conformance suite every sandbox.Store passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Run runs the suite; newStore returns an empty store closed by the caller's cleanup.
func Run(t *testing.T, newStore func(t *testing.T) sandbox.Store) {
	tests := map[string]func(*testing.T, sandbox.Store){
		"RoundTrip":       testRoundTrip,
		"Duplicates":      testDuplicates,
		"UpdateAndDelete": testUpdateAndDelete,
		"ListFilters":     testListFilters,
		"ConcurrentName":  testConcurrentName,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { fn(t, newStore(t)) })
	}
}

func record(id, name string, created time.Time) *sandbox.Sandbox {
	exp := created.Add(time.Hour)
	return &sandbox.Sandbox{
		ID: id, Name: name, Owner: "alice", State: sandbox.StateRunning,
		CreatedAt: created, UpdatedAt: created, StartedAt: &created, ExpiresAt: &exp,
		GuestToken: "tok-" + id,
		Spec: sandbox.Spec{Name: name, Image: "base", Profile: "moderate", VCPUs: 0.5, MemoryMB: 256,
			Env: map[string]string{"A": "1"}, TTL: time.Hour, Labels: map[string]string{"k": "v"}},
		Instance: sandbox.InstanceSpec{ID: id, Hostname: id,
			Image:     sandbox.Image{Ref: "base", Layers: []string{"/l1"}, Binds: []sandbox.Bind{{Source: "/usr", Destination: "/usr"}}},
			Resources: sandbox.Resources{VCPUs: 0.5, MemoryMB: 256, Pids: 64},
			Security:  sandbox.Security{Profile: "moderate", Capabilities: []string{"CAP_KILL"}, Seccomp: "moderate"}},
	}
}

// now is truncated to the microsecond, the precision every store must keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func testRoundTrip(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	want := record("i1", "one", now())
	if err := s.CreateSandbox(ctx, want); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"i1", "one"} {
		got, err := s.GetSandbox(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Errorf("get %s:\n got %+v\nwant %+v", key, got, want)
		}
	}
	if _, err := s.GetSandbox(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("get unknown: %v", err)
	}
}

// normalize makes times comparable regardless of location.
func normalize(sb *sandbox.Sandbox) *sandbox.Sandbox {
	c := *sb
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if c.StartedAt != nil {
		v := c.StartedAt.UTC()
		c.StartedAt = &v
	}
	if c.ExpiresAt != nil {
		v := c.ExpiresAt.UTC()
		c.ExpiresAt = &v
	}
	return &c
}

func testDuplicates(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateSandbox(ctx, record("i1", "one", now())); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSandbox(ctx, record("i1", "other", now())); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate ID: %v", err)
	}
	if err := s.CreateSandbox(ctx, record("i2", "one", now())); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate name: %v", err)
	}
}

func testUpdateAndDelete(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	sb := record("i1", "one", now())
	if err := s.CreateSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	sb.State, sb.Reason = sandbox.StateStopped, "stopped by test"
	if err := s.UpdateSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSandbox(ctx, "one"); got.State != sandbox.StateStopped || got.Reason != "stopped by test" {
		t.Errorf("after update: %+v", got)
	}
	if err := s.UpdateSandbox(ctx, record("nope", "nope", now())); !errdefs.IsNotFound(err) {
		t.Errorf("update unknown: %v", err)
	}
	if err := s.DeleteSandbox(ctx, "i1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSandbox(ctx, "i1"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.GetSandbox(ctx, "i1"); !errdefs.IsNotFound(err) {
		t.Errorf("get deleted: %v", err)
	}
}

func testListFilters(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	base := now()
	for i, st := range []sandbox.State{sandbox.StateRunning, sandbox.StateStopped, sandbox.StateRunning} {
		sb := record(fmt.Sprintf("i%d", i), fmt.Sprintf("n%d", i), base.Add(time.Duration(2-i)*time.Second))
		sb.State = st
		if i == 2 {
			sb.Owner = "bob"
		}
		if err := s.CreateSandbox(ctx, sb); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f sandbox.ListFilter) []string {
		l, err := s.ListSandboxes(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, sb := range l {
			out = append(out, sb.ID)
		}
		return out
	}
	cases := map[string]struct {
		f    sandbox.ListFilter
		want []string
	}{
		"all, oldest first": {sandbox.ListFilter{}, []string{"i2", "i1", "i0"}},
		"owner":             {sandbox.ListFilter{Owner: "bob"}, []string{"i2"}},
		"state":             {sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning}}, []string{"i2", "i0"}},
		"two states":        {sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning, sandbox.StateStopped}}, []string{"i2", "i1", "i0"}},
		"no match":          {sandbox.ListFilter{Owner: "carol"}, []string{}},
	}
	for name, c := range cases {
		if got := ids(c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

func testConcurrentName(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.CreateSandbox(ctx, record(fmt.Sprintf("c%d", i), "contested", now())) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d creates of one name succeeded, want exactly 1", wins)
	}
}

// RunRuns is the suite of sandbox.RunStore.
func RunRuns(t *testing.T, s sandbox.RunStore) {
	ctx := context.Background()
	base := now()
	for i, owner := range []string{"alice", "bob", "alice"} {
		r := sandbox.Run{Sandbox: fmt.Sprintf("run-%d", i), Owner: owner, Command: []string{"echo", fmt.Sprint(i)},
			ExitCode: i, StartedAt: base.Add(time.Duration(i) * time.Second), FinishedAt: base.Add(time.Duration(i)*time.Second + time.Millisecond)}
		if err := s.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListRuns(ctx, "", 0)
	if err != nil || len(all) != 3 || all[0].Sandbox != "run-2" || all[2].Command[1] != "0" {
		t.Fatalf("all runs, newest first: %+v %v", all, err)
	}
	mine, _ := s.ListRuns(ctx, "alice", 1)
	if len(mine) != 1 || mine[0].Sandbox != "run-2" || !mine[0].StartedAt.Equal(base.Add(2*time.Second)) {
		t.Errorf("alice's latest run: %+v", mine)
	}
}
