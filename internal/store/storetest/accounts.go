package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

// RunAccounts is the conformance suite of account.Store: newStore returns an empty store and
// arranges for it to be closed.
func RunAccounts(t *testing.T, newStore func(t *testing.T) account.Store) {
	cases := []struct {
		name string
		fn   func(*testing.T, account.Store)
	}{
		{"UserRoundTrip", testUserRoundTrip},
		{"EmailUniqueAnyCase", testEmailUniqueAnyCase},
		{"UpdateUser", testUpdateUser},
		{"ListUsersOrder", testListUsersOrder},
		{"KeyRoundTrip", testKeyRoundTrip},
		{"KeyNeedsUser", testKeyNeedsUser},
		{"DeleteUserTakesKeys", testDeleteUserTakesKeys},
		{"TouchKeys", testTouchKeys},
		{"Settings", testSettings},
		{"Shares", testShares},
		{"ShareNeedsUser", testShareNeedsUser},
		{"DeleteUserTakesSharesAndQuota", testDeleteUserTakesSharesAndQuota},
		{"Quota", testQuota},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore(t)) })
	}
}

func user(id, email string, created time.Time) *account.User {
	return &account.User{ID: id, Email: email, Name: "Name " + id, Role: account.RoleUser, Disabled: true,
		PasswordHash: "$2a$10$hash-" + id, CreatedAt: created}
}

func key(id, userID string, created time.Time) *account.Key {
	used, exp := created.Add(time.Minute), created.Add(time.Hour)
	return &account.Key{ID: id, UserID: userID, Name: "key " + id, Hash: "sha-" + id, CreatedAt: created,
		LastUsedAt: &used, ExpiresAt: &exp}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func sameUser(t *testing.T, what string, got, want *account.User) {
	t.Helper()
	g, w := *got, *want
	g.CreatedAt, w.CreatedAt = g.CreatedAt.UTC(), w.CreatedAt.UTC()
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sameKey(t *testing.T, what string, got, want *account.Key) {
	t.Helper()
	utc := func(k account.Key) account.Key {
		k.CreatedAt = k.CreatedAt.UTC()
		for _, p := range []**time.Time{&k.LastUsedAt, &k.ExpiresAt} {
			if *p != nil {
				v := (**p).UTC()
				*p = &v
			}
		}
		return k
	}
	if g, w := utc(*got), utc(*want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func testUserRoundTrip(t *testing.T, s account.Store) {
	ctx := context.Background()
	want := user("u1", "alice@example.com", epoch)
	must(t, "create", s.CreateUser(ctx, want))
	got, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	sameUser(t, "get", got, want)
	got.Name = "changed"
	if again, _ := s.GetUser(ctx, "u1"); again.Name != want.Name {
		t.Errorf("changing a returned user changed the store: %q", again.Name)
	}
	_, err = s.GetUser(ctx, "nope")
	wantClass(t, "get unknown", err, errdefs.ErrNotFound, "")
	_, err = s.GetUserByEmail(ctx, "nobody@example.com")
	wantClass(t, "get unknown email", err, errdefs.ErrNotFound, "")
	wantClass(t, "duplicate ID", s.CreateUser(ctx, user("u1", "other@example.com", epoch)), errdefs.ErrAlreadyExists, "")
	wantClass(t, "no email", s.CreateUser(ctx, &account.User{ID: "u2", Role: account.RoleUser}), errdefs.ErrInvalidArgument, "")
}

func testEmailUniqueAnyCase(t *testing.T, s account.Store) {
	ctx := context.Background()
	must(t, "create", s.CreateUser(ctx, user("u1", "alice@example.com", epoch)))
	wantClass(t, "same email, other case", s.CreateUser(ctx, user("u2", "Alice@Example.COM", epoch)), errdefs.ErrAlreadyExists, "")
	got, err := s.GetUserByEmail(ctx, "ALICE@example.com")
	if err != nil || got.ID != "u1" {
		t.Errorf("get by email in another case: %+v %v", got, err)
	}
}

func testUpdateUser(t *testing.T, s account.Store) {
	ctx := context.Background()
	a, b := user("u1", "a@example.com", epoch), user("u2", "b@example.com", epoch)
	must(t, "create a", s.CreateUser(ctx, a))
	must(t, "create b", s.CreateUser(ctx, b))
	a.Name, a.Role, a.Disabled, a.PasswordHash = "Ann", account.RoleAdmin, false, ""
	must(t, "update", s.UpdateUser(ctx, a))
	got, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	sameUser(t, "after update", got, a)
	a.Email = "B@example.com"
	wantClass(t, "update to a taken email", s.UpdateUser(ctx, a), errdefs.ErrAlreadyExists, "")
	wantClass(t, "update unknown", s.UpdateUser(ctx, user("u9", "z@example.com", epoch)), errdefs.ErrNotFound, "")
}

func testListUsersOrder(t *testing.T, s account.Store) {
	ctx := context.Background()
	users, err := s.ListUsers(ctx)
	if err != nil || users == nil || len(users) != 0 {
		t.Fatalf("empty store lists %v %v, want an empty, non-nil list", users, err)
	}
	must(t, "create", s.CreateUser(ctx, user("u3", "c@example.com", epoch.Add(time.Second))))
	must(t, "create", s.CreateUser(ctx, user("u2", "b@example.com", epoch)))
	must(t, "create", s.CreateUser(ctx, user("u1", "a@example.com", epoch)))
	users, err = s.ListUsers(ctx)
	must(t, "list", err)
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	if !reflect.DeepEqual(ids, []string{"u1", "u2", "u3"}) {
		t.Errorf("order: %v, want oldest first, then by ID", ids)
	}
}

func testKeyRoundTrip(t *testing.T, s account.Store) {
	ctx := context.Background()
	must(t, "create user", s.CreateUser(ctx, user("u1", "a@example.com", epoch)))
	want := key("k1", "u1", epoch)
	must(t, "create key", s.CreateKey(ctx, want))
	bare := &account.Key{ID: "k0", UserID: "u1", Hash: "sha-k0", CreatedAt: epoch.Add(-time.Second)}
	must(t, "create key without times", s.CreateKey(ctx, bare))
	got, err := s.GetKeyByHash(ctx, "sha-k1")
	must(t, "get", err)
	sameKey(t, "get by hash", got, want)
	list, err := s.ListKeys(ctx, "u1")
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	sameKey(t, "list[0]", list[0], bare)
	sameKey(t, "list[1]", list[1], want)
	if other, err := s.ListKeys(ctx, "u9"); err != nil || other == nil || len(other) != 0 {
		t.Errorf("keys of an unknown user: %v %v, want an empty list", other, err)
	}
	wantClass(t, "duplicate ID", s.CreateKey(ctx, &account.Key{ID: "k1", UserID: "u1", Hash: "other", CreatedAt: epoch}), errdefs.ErrAlreadyExists, "")
	wantClass(t, "duplicate hash", s.CreateKey(ctx, &account.Key{ID: "k2", UserID: "u1", Hash: "sha-k1", CreatedAt: epoch}), errdefs.ErrAlreadyExists, "")
	must(t, "delete", s.DeleteKey(ctx, "k1"))
	must(t, "delete again", s.DeleteKey(ctx, "k1"))
	_, err = s.GetKeyByHash(ctx, "sha-k1")
	wantClass(t, "get deleted", err, errdefs.ErrNotFound, "")
}

func testKeyNeedsUser(t *testing.T, s account.Store) {
	wantClass(t, "key of unknown user", s.CreateKey(context.Background(), key("k1", "nobody", epoch)), errdefs.ErrNotFound, "")
}

func testDeleteUserTakesKeys(t *testing.T, s account.Store) {
	ctx := context.Background()
	must(t, "create", s.CreateUser(ctx, user("u1", "a@example.com", epoch)))
	must(t, "create", s.CreateUser(ctx, user("u2", "b@example.com", epoch)))
	must(t, "key", s.CreateKey(ctx, key("k1", "u1", epoch)))
	must(t, "key", s.CreateKey(ctx, key("k2", "u2", epoch)))
	must(t, "delete", s.DeleteUser(ctx, "u1"))
	must(t, "delete again", s.DeleteUser(ctx, "u1"))
	if _, err := s.GetKeyByHash(ctx, "sha-k1"); !errdefs.IsNotFound(err) {
		t.Errorf("the deleted user's key: %v, want not found", err)
	}
	if _, err := s.GetKeyByHash(ctx, "sha-k2"); err != nil {
		t.Errorf("another user's key: %v", err)
	}
	if _, err := s.GetUserByEmail(ctx, "a@example.com"); !errdefs.IsNotFound(err) {
		t.Errorf("deleted user: %v, want not found", err)
	}
}

func testTouchKeys(t *testing.T, s account.Store) {
	ctx := context.Background()
	must(t, "create", s.CreateUser(ctx, user("u1", "a@example.com", epoch)))
	must(t, "key", s.CreateKey(ctx, &account.Key{ID: "k1", UserID: "u1", Hash: "h1", CreatedAt: epoch}))
	must(t, "key", s.CreateKey(ctx, key("k2", "u1", epoch)))
	at := epoch.Add(3 * time.Hour)
	must(t, "touch", s.TouchKeys(ctx, map[string]time.Time{"k1": at, "k2": at.Add(time.Second), "gone": at}))
	for id, want := range map[string]time.Time{"h1": at, "sha-k2": at.Add(time.Second)} {
		k, err := s.GetKeyByHash(ctx, id)
		if err != nil || k.LastUsedAt == nil || !k.LastUsedAt.Equal(want) {
			t.Errorf("key %s last used: %+v %v, want %s", id, k, err, want)
		}
	}
}

func testSettings(t *testing.T, s account.Store) {
	ctx := context.Background()
	_, err := s.GetSetting(ctx, account.SettingFirstAdmin)
	wantClass(t, "unset", err, errdefs.ErrNotFound, "")
	must(t, "set", s.SetSetting(ctx, account.SettingFirstAdmin, "u1"))
	must(t, "set again", s.SetSetting(ctx, account.SettingFirstAdmin, "u2"))
	if v, err := s.GetSetting(ctx, account.SettingFirstAdmin); err != nil || v != "u2" {
		t.Errorf("get: %q %v, want u2", v, err)
	}
}
