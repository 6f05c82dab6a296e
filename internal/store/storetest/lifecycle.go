package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lifecycle"
)

// RunLifecycle is the conformance suite of lifecycle.Store; newStore returns an empty one.
func RunLifecycle(t *testing.T, newStore func(t *testing.T) lifecycle.Store) {
	t.Run("EventsOrderScopeAndPaging", func(t *testing.T) { testLifecycleEvents(t, newStore(t)) })
	t.Run("EventData", func(t *testing.T) { testLifecycleEventData(t, newStore(t)) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, newStore(t)) })
}

func testLifecycleEvents(t *testing.T, s lifecycle.Store) {
	ctx := context.Background()
	for i, owner := range []string{"alice", "bob", "alice", "alice"} {
		ev := &lifecycle.Event{ID: fmt.Sprintf("ev-%d", i), Type: lifecycle.Types[i], SandboxID: fmt.Sprintf("i%d", i%2),
			Owner: owner, Template: "base", Build: "img", Execution: "x", Time: epoch.Add(time.Duration(i) * time.Second)}
		if err := s.AppendLifecycleEvent(ctx, ev); err != nil || ev.Seq == 0 {
			t.Fatalf("append %d: seq %d, %v", i, ev.Seq, err)
		}
	}
	ids := func(evs []lifecycle.Event, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, ev := range evs {
			out += ev.ID + " "
		}
		return out
	}
	cases := []struct {
		f    lifecycle.Filter
		want string
	}{
		{lifecycle.Filter{Owner: "alice"}, "ev-3 ev-2 ev-0 "},
		{lifecycle.Filter{Owner: "alice", Asc: true}, "ev-0 ev-2 ev-3 "},
		{lifecycle.Filter{Owner: "alice", Offset: 1, Limit: 1}, "ev-2 "},
		{lifecycle.Filter{Owner: "alice", Offset: 5}, ""},
		{lifecycle.Filter{All: true, SandboxID: "i1"}, "ev-3 ev-1 "},
		{lifecycle.Filter{Owner: "alice", SandboxID: "i1"}, "ev-3 "},
		{lifecycle.Filter{}, ""}, // nobody's
	}
	for _, c := range cases {
		if got := ids(s.ListLifecycleEvents(ctx, c.f)); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.f, got, c.want)
		}
	}
	if n, err := s.DeleteLifecycleEventsBefore(ctx, epoch.Add(1500*time.Millisecond)); err != nil || n != 2 {
		t.Errorf("prune the first two: %d %v", n, err)
	}
	if got := ids(s.ListLifecycleEvents(ctx, lifecycle.Filter{All: true})); got != "ev-3 ev-2 " {
		t.Errorf("after pruning: %q", got)
	}
	last := &lifecycle.Event{ID: "ev-4", Type: lifecycle.Killed, SandboxID: "i0", Owner: "alice", Time: epoch.Add(time.Hour)}
	if err := s.AppendLifecycleEvent(ctx, last); err != nil || last.Seq <= 4 {
		t.Errorf("after pruning, a new event's seq is %d (%v): want it after every earlier one", last.Seq, err)
	}
}

func testLifecycleEventData(t *testing.T, s lifecycle.Store) {
	ctx := context.Background()
	ev := &lifecycle.Event{ID: "ev-1", Type: lifecycle.Updated, SandboxID: "i1", Owner: "bob", Template: "base", Build: "img",
		Execution: "x", Time: epoch.Add(time.Second), Data: map[string]any{"set_timeout": "2025-03-14T16:00:00Z"}}
	if err := s.AppendLifecycleEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.ListLifecycleEvents(ctx, lifecycle.Filter{Owner: "bob"})
	if len(evs) != 1 || evs[0].Data["set_timeout"] != "2025-03-14T16:00:00Z" || !evs[0].Time.Equal(epoch.Add(time.Second)) ||
		evs[0].Type != lifecycle.Updated || evs[0].Template != "base" || evs[0].Build != "img" || evs[0].Execution != "x" {
		t.Errorf("bob's event: %+v", evs)
	}
}

func testWebhooks(t *testing.T, s lifecycle.Store) {
	ctx := context.Background()
	w := &lifecycle.Webhook{ID: "w1", Owner: "alice", Name: "n", URL: "http://127.0.0.1:1/h", Enabled: true,
		Events: []string{lifecycle.Created, lifecycle.Killed}, Secret: "s3cret", CreatedAt: epoch}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebhook(ctx, w); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate: %v", err)
	}
	w2 := &lifecycle.Webhook{ID: "w2", Owner: "bob", URL: "http://127.0.0.1:1/b", Events: []string{lifecycle.Paused}, Secret: "b", CreatedAt: epoch.Add(time.Second)}
	if err := s.CreateWebhook(ctx, w2); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetWebhook(ctx, "w1")
	if err != nil || !reflect.DeepEqual(got, w) {
		t.Errorf("get: %+v %v", got, err)
	}
	got.Events[0] = "changed" // a copy
	if again, _ := s.GetWebhook(ctx, "w1"); again.Events[0] != lifecycle.Created {
		t.Error("the store handed out its own slice")
	}
	mine, _ := s.ListWebhooks(ctx, "alice", false)
	all, _ := s.ListWebhooks(ctx, "", true)
	if len(mine) != 1 || len(all) != 2 || all[0].ID != "w1" {
		t.Errorf("list: mine %d, all %+v", len(mine), all)
	}
	upd := *w
	upd.Enabled, upd.URL, upd.Events = false, "http://127.0.0.1:2/h", []string{lifecycle.Resumed}
	if err := s.UpdateWebhook(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetWebhook(ctx, "w1"); got.Enabled || got.URL != upd.URL || got.Events[0] != lifecycle.Resumed || got.Secret != "s3cret" {
		t.Errorf("after update: %+v", got)
	}
	for _, err := range []error{s.UpdateWebhook(ctx, &lifecycle.Webhook{ID: "nope"}), s.DeleteWebhook(ctx, "nope")} {
		if !errdefs.IsNotFound(err) {
			t.Errorf("unknown webhook: %v", err)
		}
	}
	if _, err := s.GetWebhook(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("get unknown: %v", err)
	}
	if err := s.DeleteWebhook(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebhook(ctx, "w1"); !errdefs.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
}
