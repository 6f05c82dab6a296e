package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/audit"
)

// RunEvents is the conformance suite of audit.Store; s must be empty.
func RunEvents(t *testing.T, s audit.Store) {
	ctx := context.Background()
	evs := []audit.Event{
		{Type: "sandbox_created", Sandbox: "a1", UserID: "usr_alice"},
		{Type: "command_executed", Sandbox: "b1", UserID: "usr_bob"},
		{Type: "sandbox_expired", Sandbox: "a1"},                         // the server's own work on alice's sandbox
		{Type: "command_executed", Sandbox: "a1", UserID: "usr_admin"},   // an admin acting on alice's sandbox
		{Type: "key_created", UserID: "usr_alice"},                       // no sandbox: alice's own action
		{Type: "user_created", UserID: "usr_admin"},                      // no sandbox, not alice's
		{Type: "command_executed", Sandbox: "shared", UserID: "usr_bob"}, // bob's sandbox shared with alice
		{Type: "sandbox_removed", Sandbox: "b2", UserID: "usr_alice"},    // alice once acted on it
	}
	for i := range evs {
		evs[i].Time = epoch.Add(time.Duration(i) * time.Second)
	}
	if err := s.AppendEvents(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	types := func(f audit.Filter) []string {
		t.Helper()
		got, err := s.ListEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, e := range got {
			out = append(out, e.Type+"@"+e.Sandbox)
		}
		return out
	}
	alice := &audit.Scope{UserID: "usr_alice", Sandboxes: []string{"a1", "shared"}}
	for _, c := range []struct {
		name string
		f    audit.Filter
		want []string
	}{
		{"all", audit.Filter{}, []string{"sandbox_created@a1", "command_executed@b1", "sandbox_expired@a1",
			"command_executed@a1", "key_created@", "user_created@", "command_executed@shared", "sandbox_removed@b2"}},
		{"scope", audit.Filter{Scope: alice}, []string{"sandbox_created@a1", "sandbox_expired@a1", "command_executed@a1",
			"key_created@", "command_executed@shared", "sandbox_removed@b2"}},
		{"scope and sandbox", audit.Filter{Scope: alice, Sandbox: "b1"}, []string{}},
		{"scope and type", audit.Filter{Scope: alice, Type: "command_executed"}, []string{"command_executed@a1", "command_executed@shared"}},
		{"scope before limit", audit.Filter{Scope: alice, Limit: 2}, []string{"sandbox_created@a1", "sandbox_expired@a1"}},
		{"empty scope", audit.Filter{Scope: &audit.Scope{}}, []string{}},
		{"user without sandboxes", audit.Filter{Scope: &audit.Scope{UserID: "usr_bob"}}, []string{"command_executed@b1", "command_executed@shared"}},
	} {
		if got := types(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
