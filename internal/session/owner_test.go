package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/session"
)

func as(id string, role account.Role) context.Context {
	return account.WithIdentity(context.Background(), account.Identity{UserID: id, Email: id + "@example.com", Role: role})
}

// TestKernelsBelongToUsers: a user's kernels are invisible (not found) to another user, by ID
// and by name, in lists, executes, restarts and deletes; an admin lists and finds them all by
// ID; the same session name of two users is two kernels.
func TestKernelsBelongToUsers(t *testing.T) {
	reg, _ := newRegistry(t)
	alice, bob, admin := as("usr_alice", account.RoleUser), as("usr_bob", account.RoleUser), as("usr_admin", account.RoleAdmin)
	ka, err := reg.Create(alice, session.CreateRequest{Name: "k", Language: "bash", Owner: session.OwnerOf(alice)})
	if err != nil {
		t.Fatal(err)
	}
	if ka.Owner != "usr_alice" {
		t.Fatalf("owner %q, want the user ID", ka.Owner)
	}
	for _, ref := range []string{ka.ID, "k"} {
		if _, err := reg.Get(bob, ref, "usr_bob"); !errdefs.IsNotFound(err) {
			t.Errorf("bob gets %s: %v, want not found", ref, err)
		}
		if _, err := reg.Execute(bob, ref, "usr_bob", "", "echo hi", 0); !errdefs.IsNotFound(err) {
			t.Errorf("bob executes in %s: %v, want not found", ref, err)
		}
		if _, err := reg.Restart(bob, ref, "usr_bob"); !errdefs.IsNotFound(err) {
			t.Errorf("bob restarts %s: %v, want not found", ref, err)
		}
		if err := reg.Delete(bob, ref, "usr_bob"); !errdefs.IsNotFound(err) {
			t.Errorf("bob deletes %s: %v, want not found", ref, err)
		}
	}
	if got := reg.List(bob, "usr_bob"); len(got) != 0 {
		t.Errorf("bob lists %d kernels, want 0", len(got))
	}
	kb, err := reg.GetOrCreate(bob, session.CreateRequest{Name: "k", Language: "bash", Owner: "usr_bob", Session: true})
	if err != nil || kb.ID == ka.ID {
		t.Fatalf("bob's session k: %v (same kernel as alice's: %v)", err, kb != nil && kb.ID == ka.ID)
	}
	if got := reg.List(admin, "usr_admin"); len(got) != 2 {
		t.Errorf("admin lists %d kernels, want 2", len(got))
	}
	res, err := reg.Execute(admin, ka.ID, "usr_admin", "", "echo hi", 0)
	if err != nil || res.Status != session.StatusSuccess {
		t.Fatalf("admin executes in alice's kernel: %v %+v", err, res)
	}
	if _, err := reg.Get(admin, "k", "usr_admin"); !errdefs.IsNotFound(err) {
		t.Errorf("admin gets the name k: %v, want not found (names are per owner)", err)
	}
	if err := reg.Delete(admin, ka.ID, "usr_admin"); err != nil {
		t.Fatalf("admin deletes alice's kernel: %v", err)
	}
	if got := reg.List(alice, "usr_alice"); len(got) != 0 {
		t.Errorf("alice lists %d kernels after the admin deleted hers", len(got))
	}
}

// TestSessionQuota: a user with a sessions quota of 2 gets 429 for a third kernel at once,
// including when the creations are concurrent, and may make one again after a delete;
// admins are not limited.
func TestSessionQuota(t *testing.T) {
	reg, m := newRegistry(t, account.Quota{Sessions: 2})
	alice := as("usr_alice", account.RoleUser)
	ks, errs := concurrently(4, func() (*session.Kernel, error) {
		return reg.Create(alice, session.CreateRequest{Language: "bash", Owner: "usr_alice"})
	})
	made, refused := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			made++
		case errors.Is(err, errdefs.ErrResourceExhausted):
			refused++
			if want := "quota exceeded: at most 2 code sessions, 2 in use"; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		default:
			t.Errorf("create %d: %v", i, err)
		}
		_ = ks[i]
	}
	if made != 2 || refused != 2 {
		t.Fatalf("%d made, %d refused; want 2 and 2", made, refused)
	}
	if n := countSandboxes(m); n != 2 {
		t.Errorf("%d sandboxes, want 2 (a refused session leaves none)", n)
	}
	if _, err := reg.GetOrCreate(alice, session.CreateRequest{Name: "s", Language: "bash", Owner: "usr_alice", Session: true}); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Errorf("a third session by name: %v, want resource exhausted", err)
	}
	k := reg.List(alice, "usr_alice")[0]
	if err := reg.Delete(alice, k.ID, "usr_alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Create(alice, session.CreateRequest{Language: "bash", Owner: "usr_alice"}); err != nil {
		t.Errorf("after a delete: %v", err)
	}
	admin := as("usr_admin", account.RoleAdmin)
	for range 3 {
		if _, err := reg.Create(admin, session.CreateRequest{Language: "bash", Owner: "usr_admin"}); err != nil {
			t.Errorf("admin: %v", err)
		}
	}
}
