package client_test

import (
	"errors"
	"reflect"
	"time"

	"github.com/paddock/paddock/client"
)

// accounts walks a user through the account routes: the admin makes them and a key for
// them, they log in, see themselves, change their password, and the admin revokes the key
// and deletes them.
func (k *contract) accounts() {
	t := k.t
	req := client.CreateUserRequest{Email: "carol@example.com", Name: "Carol", Role: "user", Password: "first-password"}
	u, err := k.c.CreateUser(k.ctx, req)
	k.call("Client.CreateUser", err)
	if u.ID == "" || u.Email != req.Email || u.Name != req.Name || u.Role != req.Role || u.Disabled || !u.HasPassword {
		t.Errorf("created user: %+v", *u)
	}
	got, err := k.c.User(k.ctx, req.Email)
	k.call("Client.User", err)
	if !reflect.DeepEqual(got, u) {
		t.Errorf("user:\n got %+v\nwant %+v", *got, *u)
	}
	users, err := k.c.Users(k.ctx)
	k.call("Client.Users", err)
	if !containsUser(users, *u) {
		t.Errorf("users %+v lack %+v", users, *u)
	}
	name := "Carol C."
	u, err = k.c.UpdateUser(k.ctx, req.Email, client.UpdateUserRequest{Name: &name})
	k.call("Client.UpdateUser", err)
	if u.Name != name {
		t.Errorf("updated user: %+v", *u)
	}
	nk, err := k.c.CreateKey(k.ctx, req.Email, client.CreateKeyRequest{Name: "ci", ExpiresIn: 3600})
	k.call("Client.CreateKey", err)
	if nk.Key == "" || nk.UserID != u.ID || nk.Name != "ci" || nk.ExpiresAt == nil || time.Until(*nk.ExpiresAt) < 59*time.Minute {
		t.Errorf("new key: %+v", *nk)
	}
	keys, err := k.c.Keys(k.ctx, req.Email)
	k.call("Client.Keys", err)
	if len(keys) != 1 || keys[0].ID != nk.ID {
		t.Errorf("keys: %+v, want only %s", keys, nk.ID)
	}
	// As carol: her key, then a login token, each see her.
	carol := client.New(k.s.URL, nk.Key)
	me, err := carol.Me(k.ctx)
	k.call("Client.Me", err)
	if me.ID != u.ID || me.KeyID != nk.ID {
		t.Errorf("me by key: %+v", *me)
	}
	tok, err := carol.Login(k.ctx, req.Email, req.Password)
	k.call("Client.Login", err)
	if tok.AccessToken == "" || tok.TokenType != "bearer" {
		t.Errorf("login: %+v", *tok)
	}
	if me, err := client.New(k.s.URL, tok.AccessToken).Me(k.ctx); err != nil || me.ID != u.ID {
		t.Errorf("me by login token: %+v, %v", me, err)
	}
	k.call("Client.ChangePassword", carol.ChangePassword(k.ctx, client.PasswordRequest{CurrentPassword: req.Password, Password: "second-password"}))
	if _, err := carol.Login(k.ctx, req.Email, req.Password); err == nil {
		t.Error("login with the old password succeeded")
	}
	k.call("Client.RevokeKey", k.c.RevokeKey(k.ctx, req.Email, nk.ID))
	var ce *client.Error
	if _, err := carol.Me(k.ctx); !errors.As(err, &ce) || ce.Status != 401 {
		t.Errorf("me with a revoked key: %v, want 401", err)
	}
	k.call("Client.DeleteUser", k.c.DeleteUser(k.ctx, req.Email))
	if _, err := k.c.User(k.ctx, req.Email); !client.IsNotFound(err) {
		t.Errorf("user after delete: %v, want not found", err)
	}
}

func containsUser(users []client.User, u client.User) bool {
	for _, x := range users {
		if reflect.DeepEqual(x, u) {
			return true
		}
	}
	return false
}
