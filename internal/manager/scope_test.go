package manager_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestEventScope: a user's audit scope is their ID and the names of the sandboxes they own
// or that are shared with them; admins and the system get none (everything).
func TestEventScope(t *testing.T) {
	tn := newTenants(t, account.Quota{})
	for _, c := range []struct {
		ctx  context.Context
		name string
	}{{tn.alice, "a1"}, {tn.alice, "a2"}, {tn.bob, "b1"}, {tn.bob, "b2"}} {
		if _, err := tn.m.Create(c.ctx, sandbox.Spec{Name: c.name}, ""); err != nil {
			t.Fatal(err)
		}
	}
	b2, _ := tn.m.Get(tn.bob, "b2")
	if err := tn.accts.PutShare(context.Background(), &account.Share{SandboxID: b2.ID, UserID: tn.aliceID,
		Role: account.ShareViewer, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s, err := tn.m.EventScope(tn.alice)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.Sandboxes)
	if s.UserID != tn.aliceID || !slices.Equal(s.Sandboxes, []string{"a1", "a2", "b2"}) {
		t.Errorf("alice's scope: %+v", s)
	}
	for name, ctx := range map[string]context.Context{"admin": tn.admin, "system": context.Background()} {
		if s, err := tn.m.EventScope(ctx); err != nil || s != nil {
			t.Errorf("%s's scope: %+v %v, want nil (everything)", name, s, err)
		}
	}
}

// TestAdminOnly: users may not change images or pools (permission denied), admins and the
// system may; the run history a user reads is their own.
func TestAdminOnly(t *testing.T) {
	tn := newTenants(t, account.Quota{})
	if err := manager.RequireAdmin(tn.alice, "change templates"); !errors.Is(err, errdefs.ErrPermissionDenied) || err.Error() != "only an admin may change templates" {
		t.Errorf("alice: %v", err)
	}
	if _, err := tn.m.PullImage(tn.alice, "base"); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("alice pulls: %v", err)
	}
	if _, err := tn.m.PruneImages(tn.bob); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("bob prunes: %v", err)
	}
	if err := tn.m.SetPools(tn.bob, nil); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("bob sets pools: %v", err)
	}
	if _, err := tn.m.ResolveImage(tn.alice, "base"); err != nil {
		t.Errorf("alice resolves the image of a sandbox she makes: %v", err)
	}
	for name, ctx := range map[string]context.Context{"admin": tn.admin, "system": context.Background()} {
		if _, err := tn.m.PullImage(ctx, "base"); err != nil {
			t.Errorf("%s pulls: %v", name, err)
		}
		if err := manager.RequireAdmin(ctx, "x"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if o := manager.RunOwner(ctx); o != "" {
			t.Errorf("%s's run owner %q, want every run", name, o)
		}
	}
	if o := manager.RunOwner(tn.alice); o != tn.aliceID {
		t.Errorf("alice's run owner %q", o)
	}
	if o := manager.OwnerOf(tn.alice, "key-x"); o != tn.aliceID {
		t.Errorf("OwnerOf(alice) = %q", o)
	}
	if o := manager.OwnerOf(context.Background(), "key-x"); o != "key-x" {
		t.Errorf("OwnerOf(system) = %q", o)
	}
}
