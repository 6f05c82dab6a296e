package server_test

import (
	"testing"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
)

// TestOwnersSharesQuotas: on the fake driver, alice's sandbox is not found for bob on the
// native and E2B surfaces, the admin sees it, a viewer share lets bob read but not exec, and
// a quota hit answers 429 and leaves nothing.
func TestOwnersSharesQuotas(t *testing.T) {
	s := accountsServer(t)
	admin := servertest.Key
	keys := map[string]string{}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		if code, _, msg := call[client.User](t, s, "POST", "/users", client.CreateUserRequest{Email: email}, admin); code != 201 {
			t.Fatalf("create %s: %d %s", email, code, msg)
		}
		code, k, msg := call[client.NewAPIKey](t, s, "POST", "/users/"+email+"/keys", client.CreateKeyRequest{}, admin)
		if code != 201 {
			t.Fatalf("key of %s: %d %s", email, code, msg)
		}
		keys[email] = k.Key
	}
	alice, bob := keys["alice@example.com"], keys["bob@example.com"]
	code, _, msg := call[map[string]any](t, s, "POST", "/sandboxes", map[string]any{"name": "alices"}, alice)
	if code != 201 && code != 200 {
		t.Fatalf("alice creates: %d %s", code, msg)
	}
	// The sandbox names its owner (the UI's owner column).
	_, me, _ := call[client.User](t, s, "GET", "/me", nil, alice)
	if code, sb, _ := call[client.Sandbox](t, s, "GET", "/sandboxes/alices", nil, admin); code != 200 || me.ID == "" || sb.Owner != me.ID {
		t.Errorf("owner of alice's sandbox: %d %q, want %q", code, sb.Owner, me.ID)
	}

	for _, c := range []struct{ key, who string }{{bob, "bob"}, {alice, "alice"}, {admin, "admin"}} {
		want := 200
		if c.who == "bob" {
			want = 404
		}
		if code, _, _ := call[any](t, s, "GET", "/sandboxes/alices", nil, c.key); code != want {
			t.Errorf("%s GET /sandboxes/alices: %d, want %d", c.who, code, want)
		}
		// E2B finds natively made sandboxes too.
		if resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/e2b/v1/sandboxes/alices", Key: c.key}); resp.StatusCode != want {
			t.Errorf("%s E2B GET: %d %s, want %d", c.who, resp.StatusCode, raw, want)
		}
	}
	if code, list, _ := call[[]map[string]any](t, s, "GET", "/sandboxes", nil, bob); code != 200 || len(list) != 0 {
		t.Errorf("bob lists %d %v", code, list)
	}
	if code, _, _ := call[any](t, s, "DELETE", "/sandboxes/alices", nil, bob); code != 404 {
		t.Errorf("bob deletes alice's sandbox: %d, want 404", code)
	}
	if code, _, _ := call[any](t, s, "POST", "/sandboxes/alices/shares", map[string]any{"email": "bob@example.com", "role": "viewer"}, bob); code != 404 {
		t.Errorf("bob shares alice's sandbox: %d, want 404", code)
	}

	// A viewer share: bob reads, does not exec.
	if code, _, msg := call[any](t, s, "POST", "/sandboxes/alices/shares", map[string]any{"email": "bob@example.com", "role": "viewer"}, alice); code != 201 {
		t.Fatalf("alice shares: %d %s", code, msg)
	}
	if code, _, _ := call[any](t, s, "GET", "/sandboxes/alices", nil, bob); code != 200 {
		t.Errorf("viewer GET: %d", code)
	}
	if code, _, _ := call[any](t, s, "POST", "/sandboxes/alices/exec", map[string]any{"command": []string{"true"}}, bob); code != 403 {
		t.Errorf("viewer exec: %d, want 403", code)
	}
	if code, shs, _ := call[[]client.Share](t, s, "GET", "/sandboxes/alices/shares", nil, alice); code != 200 || len(shs) != 1 || shs[0].Email != "bob@example.com" {
		t.Errorf("shares: %d %+v", code, shs)
	}
	if code, _, _ := call[any](t, s, "DELETE", "/sandboxes/alices/shares/bob@example.com", nil, alice); code != 200 {
		t.Errorf("unshare: %d", code)
	}
	if code, _, _ := call[any](t, s, "GET", "/sandboxes/alices", nil, bob); code != 404 {
		t.Errorf("after unshare: %d, want 404", code)
	}

	// Quota: one sandbox for alice; the second create is 429 and leaves nothing.
	if code, _, msg := call[any](t, s, "PUT", "/users/alice@example.com/quota", map[string]any{"sandboxes": 1}, admin); code != 200 {
		t.Fatalf("set quota: %d %s", code, msg)
	}
	if code, _, _ := call[any](t, s, "PUT", "/users/alice@example.com/quota", map[string]any{"sandboxes": 5}, alice); code != 403 {
		t.Errorf("alice sets her quota: %d, want 403", code)
	}
	code, _, msg = call[any](t, s, "POST", "/sandboxes", map[string]any{"name": "alices2"}, alice)
	if code != 429 || msg == "" {
		t.Errorf("over quota: %d %q, want 429", code, msg)
	}
	if code, _, _ := call[any](t, s, "GET", "/sandboxes/alices2", nil, admin); code != 404 {
		t.Errorf("refused create left a sandbox: %d", code)
	}
	if code, me, _ := call[client.Me](t, s, "GET", "/me", nil, alice); code != 200 || me.Quota == nil || *me.Quota.Sandboxes != 1 || me.Usage.Sandboxes != 1 {
		t.Errorf("alice's /me: %d %+v", code, me)
	}
}
