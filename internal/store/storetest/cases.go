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

func create(t *testing.T, s sandbox.Store, sbs ...*sandbox.Sandbox) {
	t.Helper()
	for _, sb := range sbs {
		if err := s.CreateSandbox(context.Background(), sb); err != nil {
			t.Fatalf("create %s: %v", sb.ID, err)
		}
	}
}

func get(t *testing.T, s sandbox.Store, idOrName string) *sandbox.Sandbox {
	t.Helper()
	sb, err := s.GetSandbox(context.Background(), idOrName)
	if err != nil {
		t.Fatalf("get %s: %v", idOrName, err)
	}
	return sb
}

func wantClass(t *testing.T, what string, err, class error, msg string) {
	t.Helper()
	if !errors.Is(err, class) || (msg != "" && err.Error() != msg) {
		t.Errorf("%s: got %v, want %v %q", what, err, class, msg)
	}
}

func testRoundTrip(t *testing.T, s sandbox.Store) {
	want := record("i1", "one", epoch)
	create(t, s, want)
	sameRecord(t, "get by ID", get(t, s, "i1"), want)
	sameRecord(t, "get by name", get(t, s, "one"), want)
	list, err := s.ListSandboxes(context.Background(), sandbox.ListFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	sameRecord(t, "list", list[0], want)
	_, err = s.GetSandbox(context.Background(), "nope")
	wantClass(t, "get unknown", err, errdefs.ErrNotFound, `sandbox "nope" not found`)
}

func testReturnsCopies(t *testing.T, s sandbox.Store) {
	sb := record("i1", "one", epoch)
	create(t, s, sb)
	want := record("i1", "one", epoch)
	// Changing what was stored, or what was read, changes nothing in the store.
	sb.Spec.Env["A"], sb.Instance.Image.Layers[0], *sb.StartedAt = "changed", "/changed", epoch.Add(time.Hour)
	got := get(t, s, "i1")
	sameRecord(t, "after changing the created value", got, want)
	got.Spec.Labels["team"], got.Instance.Security.Capabilities[0], *got.ExpiresAt = "changed", "CAP_SYS_ADMIN", epoch
	sameRecord(t, "after changing a read value", get(t, s, "one"), want)
}

func testDuplicateID(t *testing.T, s sandbox.Store) {
	create(t, s, record("i1", "one", epoch))
	err := s.CreateSandbox(context.Background(), record("i1", "other", epoch))
	wantClass(t, "duplicate ID", err, errdefs.ErrAlreadyExists, "")
	if _, err := s.GetSandbox(context.Background(), "other"); !errdefs.IsNotFound(err) {
		t.Errorf("the refused record was stored: %v", err)
	}
}

func testDuplicateName(t *testing.T, s sandbox.Store) {
	create(t, s, record("i1", "one", epoch))
	err := s.CreateSandbox(context.Background(), record("i2", "one", epoch))
	wantClass(t, "duplicate name", err, errdefs.ErrAlreadyExists, `sandbox name "one" is taken`)
	if _, err := s.GetSandbox(context.Background(), "i2"); !errdefs.IsNotFound(err) {
		t.Errorf("the refused record was stored: %v", err)
	}
}

func testIDWinsOverName(t *testing.T, s sandbox.Store) {
	create(t, s, record("x", "first", epoch), record("y", "x", epoch))
	if got := get(t, s, "x"); got.ID != "x" {
		t.Errorf(`get "x" found %s, want the sandbox whose ID is "x"`, got.ID)
	}
}

func testUpdate(t *testing.T, s sandbox.Store) {
	sb := record("i1", "one", epoch)
	create(t, s, sb)
	sb.Name, sb.State, sb.Reason, sb.StartedAt = "renamed", sandbox.StateFailed, "lost", nil
	sb.UpdatedAt = epoch.Add(time.Minute)
	if err := s.UpdateSandbox(context.Background(), sb); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "after update", get(t, s, "renamed"), sb)
	_, err := s.GetSandbox(context.Background(), "one")
	wantClass(t, "old name", err, errdefs.ErrNotFound, "")
	create(t, s, record("i2", "one", epoch)) // the old name is free again
}

func testUpdateUnknown(t *testing.T, s sandbox.Store) {
	err := s.UpdateSandbox(context.Background(), record("nope", "nope", epoch))
	wantClass(t, "update unknown", err, errdefs.ErrNotFound, `sandbox "nope" not found`)
	if _, err := s.GetSandbox(context.Background(), "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("update created a record: %v", err)
	}
}

func testUpdateToTakenName(t *testing.T, s sandbox.Store) {
	create(t, s, record("i1", "one", epoch), record("i2", "two", epoch))
	sb := record("i2", "one", epoch)
	err := s.UpdateSandbox(context.Background(), sb)
	wantClass(t, "rename to a taken name", err, errdefs.ErrAlreadyExists, `sandbox name "one" is taken`)
	sameRecord(t, "record after the refused rename", get(t, s, "i2"), record("i2", "two", epoch))
}

func testDelete(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	create(t, s, record("i1", "one", epoch), record("i2", "two", epoch))
	for _, id := range []string{"i1", "i1", "never-existed"} {
		if err := s.DeleteSandbox(ctx, id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	for _, key := range []string{"i1", "one"} {
		_, err := s.GetSandbox(ctx, key)
		wantClass(t, "get deleted "+key, err, errdefs.ErrNotFound, "")
	}
	if get(t, s, "two").ID != "i2" {
		t.Error("delete removed another record")
	}
	create(t, s, record("i3", "one", epoch)) // the name is free again
}

func testInvalidRecords(t *testing.T, s sandbox.Store) {
	cases := map[string]*sandbox.Sandbox{
		"nil":     nil,
		"no ID":   record("", "one", epoch),
		"no name": record("i1", "", epoch),
	}
	for name, sb := range cases {
		t.Run(name, func(t *testing.T) {
			wantClass(t, "create", s.CreateSandbox(context.Background(), sb), errdefs.ErrInvalidArgument, "")
			wantClass(t, "update", s.UpdateSandbox(context.Background(), sb), errdefs.ErrInvalidArgument, "")
		})
	}
}

func testListFiltersAndOrder(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	mk := func(id, owner string, st sandbox.State, created time.Time) *sandbox.Sandbox {
		sb := record(id, "n-"+id, created)
		sb.Owner, sb.State, sb.GuestToken = owner, st, "tok-"+id
		return sb
	}
	// Created out of order; b and a share a creation time, so the ID decides.
	create(t, s,
		mk("c", "alice", sandbox.StateRunning, epoch.Add(2*time.Microsecond)),
		mk("b", "bob", sandbox.StateStopped, epoch.Add(time.Microsecond)),
		mk("a", "alice", sandbox.StatePaused, epoch.Add(time.Microsecond)),
		mk("d", "alice", sandbox.StateRunning, epoch))
	cases := []struct {
		name string
		f    sandbox.ListFilter
		want []string
	}{
		{"all, oldest first, then by ID", sandbox.ListFilter{}, []string{"d", "a", "b", "c"}},
		{"owner", sandbox.ListFilter{Owner: "bob"}, []string{"b"}},
		{"one state", sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning}}, []string{"d", "c"}},
		{"two states", sandbox.ListFilter{States: []sandbox.State{sandbox.StatePaused, sandbox.StateStopped}}, []string{"a", "b"}},
		{"owner and state", sandbox.ListFilter{Owner: "alice", States: []sandbox.State{sandbox.StatePaused, sandbox.StateStopped}}, []string{"a"}},
		{"unknown owner", sandbox.ListFilter{Owner: "carol"}, []string{}},
		{"unused state", sandbox.ListFilter{States: []sandbox.State{sandbox.StateFailed}}, []string{}},
		{"guest token", sandbox.ListFilter{GuestToken: "tok-b"}, []string{"b"}},
		{"guest token and state", sandbox.ListFilter{GuestToken: "tok-b", States: []sandbox.State{sandbox.StateRunning}}, []string{}},
		{"unknown guest token", sandbox.ListFilter{GuestToken: "tok-x"}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			list, err := s.ListSandboxes(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, sb := range list {
				got = append(got, sb.ID)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func testConcurrentSameName(t *testing.T, s sandbox.Store) {
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateSandbox(context.Background(), record(fmt.Sprint("c", i), "contested", epoch))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, errdefs.ErrAlreadyExists):
			t.Errorf("create %d: %v, want success or already exists", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creates of one name succeeded, want exactly 1", wins)
	}
}

func testConcurrentCreates(t *testing.T, s sandbox.Store) {
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateSandbox(context.Background(), record(fmt.Sprintf("c%02d", i), fmt.Sprint("n", i), epoch))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSandboxes(context.Background(), sandbox.ListFilter{})
	if err != nil || len(list) != n {
		t.Fatalf("listed %d records (%v), want %d", len(list), err, n)
	}
}
