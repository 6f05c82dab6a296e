package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
)

const jwtSecret = "test-secret-0123456789abcdef0123456789abcdef"

// accountsServer is a test server with a known JWT secret.
func accountsServer(t *testing.T) *servertest.Server {
	return servertest.New(t, func(c *config.Config) { c.JWTSecret = jwtSecret })
}

// call sends a native request with key and returns the status and envelope.
func call[T any](t *testing.T, s *servertest.Server, method, path string, body any, key string) (int, T, string) {
	t.Helper()
	code, env := s.NativeKey(method, path, body, key)
	var v T
	if env.Success && len(env.Data) > 0 {
		v = servertest.Data[T](t, env)
	}
	return code, v, env.Error
}

func login(t *testing.T, s *servertest.Server, email, password string) (int, client.Token, string) {
	t.Helper()
	form := url.Values{"username": {email}, "password": {password}}
	resp, raw := s.Do(servertest.Request{Method: "POST", Path: "/api/token", Body: form.Encode(), Key: servertest.NoKey,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
	var tok client.Token
	var detail struct {
		Detail string `json:"detail"`
	}
	servertest.Decode(t, raw, &tok)
	servertest.Decode(t, raw, &detail)
	return resp.StatusCode, tok, detail.Detail
}

// TestAccountsAPI: an admin and two users. Users cannot call admin routes (403), manage only
// their own keys; a revoked key, an expired login token and a disabled user's key and token
// answer 401 at once; keys and passwords appear neither in the logs nor in the database.
func TestAccountsAPI(t *testing.T) {
	s := accountsServer(t)
	admin := servertest.Key

	code, me, _ := call[client.Me](t, s, "GET", "/me", nil, admin)
	if code != 200 || me.Email != "admin@localhost" || me.Role != "admin" || me.KeyID != account.KeyID(admin) {
		t.Fatalf("the server key is the first admin's: %d %+v", code, me)
	}

	const alicePW, bobPW = "alice-password-1", "bob-password-22"
	for _, u := range []client.CreateUserRequest{{Email: "alice@example.com", Password: alicePW}, {Email: "Bob@Example.com", Name: "Bob", Password: bobPW}} {
		if code, got, msg := call[client.User](t, s, "POST", "/users", u, admin); code != 201 || got.Role != "user" || !got.HasPassword {
			t.Fatalf("create %s: %d %+v %s", u.Email, code, got, msg)
		}
	}
	if code, _, msg := call[any](t, s, "POST", "/users", client.CreateUserRequest{Email: "ALICE@example.com"}, admin); code != 409 {
		t.Errorf("same email in another case: %d %s", code, msg)
	}
	newKey := func(path, key string, req client.CreateKeyRequest) client.NewAPIKey {
		t.Helper()
		code, k, msg := call[client.NewAPIKey](t, s, "POST", path, req, key)
		if code != 201 || !account.LooksLikeKey(k.Key) || k.ID != account.KeyID(k.Key) {
			t.Fatalf("POST %s: %d %+v %s", path, code, k, msg)
		}
		return k
	}
	alice := newKey("/users/alice@example.com/keys", admin, client.CreateKeyRequest{Name: "from admin"})
	bob := newKey("/users/bob@example.com/keys", admin, client.CreateKeyRequest{})
	alice2 := newKey("/me/keys", alice.Key, client.CreateKeyRequest{Name: "laptop", ExpiresIn: 3600})
	if alice2.ExpiresAt == nil || alice2.UserID != alice.UserID {
		t.Errorf("alice's own key: %+v", alice2)
	}

	// A user gets 403 on every admin route, and 404 for another user's key.
	for _, route := range []string{"GET /users", "POST /users", "GET /users/bob@example.com", "PATCH /users/bob@example.com",
		"DELETE /users/bob@example.com", "GET /users/bob@example.com/keys", "POST /users/alice@example.com/keys",
		"DELETE /users/bob@example.com/keys/" + bob.ID} {
		method, path, _ := strings.Cut(route, " ")
		if code, _, _ := call[any](t, s, method, path, map[string]any{}, alice.Key); code != 403 {
			t.Errorf("alice: %s answers %d, want 403", route, code)
		}
	}
	if code, _, _ := call[any](t, s, "DELETE", "/me/keys/"+bob.ID, nil, alice.Key); code != 404 {
		t.Errorf("alice revoking bob's key: %d, want 404", code)
	}
	if code, keys, _ := call[[]client.APIKey](t, s, "GET", "/me/keys", nil, alice.Key); code != 200 || len(keys) != 2 || keys[0].LastUsedAt == nil {
		t.Errorf("alice's keys: %d %+v", code, keys)
	}
	if code, me, _ := call[client.Me](t, s, "GET", "/me", nil, bob.Key); code != 200 || me.Email != "bob@example.com" || me.Name != "Bob" {
		t.Errorf("bob's /me: %d %+v", code, me)
	}

	// A revoked key fails at once, although it was just used (and cached).
	if code, _, _ := call[any](t, s, "GET", "/sandboxes", nil, alice2.Key); code != 200 {
		t.Fatalf("alice's second key: %d", code)
	}
	if code, _, msg := call[any](t, s, "DELETE", "/me/keys/"+alice2.ID, nil, alice.Key); code != 200 {
		t.Fatalf("revoke: %d %s", code, msg)
	}
	if code, _, _ := call[any](t, s, "GET", "/sandboxes", nil, alice2.Key); code != 401 {
		t.Errorf("a revoked key answers %d, want 401", code)
	}
	if resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/e2b/v1/sandboxes", Key: alice2.Key}); resp.StatusCode != 401 || !strings.Contains(string(raw), `"code":401`) {
		t.Errorf("a revoked key on the E2B surface: %d %s", resp.StatusCode, raw)
	}

	// Logins: a JWT is accepted wherever a key is, as X-API-Key or Authorization: Bearer.
	if code, _, detail := login(t, s, "alice@example.com", "wrong-password"); code != 401 || detail != "incorrect email or password" {
		t.Errorf("wrong password: %d %q", code, detail)
	}
	code, tok, detail := login(t, s, "alice@example.com", alicePW)
	if code != 200 || tok.TokenType != "bearer" || tok.ExpiresIn != 86400 {
		t.Fatalf("login: %d %+v %s", code, tok, detail)
	}
	resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/me", Key: servertest.NoKey,
		Header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}}})
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"email":"alice@example.com"`) || !strings.Contains(string(raw), `"key_id":"token-`) {
		t.Errorf("/me with a bearer token: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/e2b/v1/sandboxes", Key: tok.AccessToken}); resp.StatusCode != 200 {
		t.Errorf("a token on the E2B surface: %d %s", resp.StatusCode, raw)
	}
	expired := signToken(t, "alice-id-does-not-matter", time.Now().Add(-time.Second))
	if resp, raw := s.Do(servertest.Request{Method: "GET", Path: "/sandboxes", Key: expired}); resp.StatusCode != 401 || !strings.Contains(string(raw), "login token expired") {
		t.Errorf("an expired token: %d %s", resp.StatusCode, raw)
	}

	// Disabling bob stops his key and his token at once; the last admin cannot go.
	_, bobTok, _ := login(t, s, "bob@example.com", bobPW)
	for _, k := range []string{bob.Key, bobTok.AccessToken} {
		if code, _, _ := call[any](t, s, "GET", "/sandboxes", nil, k); code != 200 {
			t.Fatalf("bob before being disabled: %d", code)
		}
	}
	if code, u, msg := call[client.User](t, s, "PATCH", "/users/bob@example.com", map[string]any{"disabled": true}, admin); code != 200 || !u.Disabled {
		t.Fatalf("disable bob: %d %+v %s", code, u, msg)
	}
	for _, k := range []string{bob.Key, bobTok.AccessToken} {
		if code, _, msg := call[any](t, s, "GET", "/sandboxes", nil, k); code != 401 || !strings.Contains(msg, "account disabled") {
			t.Errorf("disabled bob: %d %q, want 401", code, msg)
		}
	}
	for _, c := range []struct{ method, path string }{{"DELETE", "/users/admin@localhost"}, {"PATCH", "/users/admin@localhost"}} {
		if code, _, msg := call[any](t, s, c.method, c.path, map[string]any{"disabled": true}, admin); code != 409 {
			t.Errorf("%s the last admin: %d %s, want 409", c.method, code, msg)
		}
	}

	// Password change needs the current one.
	if code, _, _ := call[any](t, s, "PUT", "/me/password", client.PasswordRequest{CurrentPassword: "nope", Password: "new-password-3"}, alice.Key); code != 403 {
		t.Errorf("password change with a wrong current password: %d, want 403", code)
	}
	if code, _, msg := call[any](t, s, "PUT", "/me/password", client.PasswordRequest{CurrentPassword: alicePW, Password: "new-password-3"}, alice.Key); code != 200 {
		t.Errorf("password change: %d %s", code, msg)
	}
	if code, _, _ := login(t, s, "alice@example.com", "new-password-3"); code != 200 {
		t.Errorf("login with the new password: %d", code)
	}

	// Audit events name the acting user and key.
	var evs []struct {
		Event     string         `json:"event"`
		UserID    string         `json:"user_id"`
		UserEmail string         `json:"user_email"`
		KeyID     string         `json:"key_id"`
		Details   map[string]any `json:"details"`
	}
	_, env := s.Native("GET", "/events?type=key_created", nil)
	json.Unmarshal(env.Data, &evs)
	found := false
	for _, ev := range evs {
		if ev.UserEmail == "alice@example.com" && ev.KeyID == alice.ID && ev.Details["key"] == alice2.ID {
			found = true
		}
	}
	if !found {
		t.Errorf("no key_created event by alice's key for her second key: %+v", evs)
	}

	// Secrets never in clear: not in the logs, not in the database.
	s.Srv.Accounts().Flush(t.Context())
	secrets := []string{admin, alice.Key, bob.Key, alice2.Key, alicePW, bobPW, "new-password-3", tok.AccessToken, jwtSecret}
	var db strings.Builder
	for _, f := range []string{"paddock.db", "paddock.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(s.DataDir, f))
		db.Write(b)
	}
	if db.Len() == 0 {
		t.Fatal("no database to search")
	}
	for _, secret := range secrets {
		if strings.Contains(s.Logs.String(), secret) {
			t.Errorf("a secret (%.8s…) is in the logs", secret)
		}
		if strings.Contains(db.String(), secret) {
			t.Errorf("a secret (%.8s…) is in the database in clear", secret)
		}
	}
}

// signToken makes a login token with the test server's secret.
func signToken(t *testing.T, sub string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Issuer: "paddock", Subject: sub, ID: "x",
		IssuedAt: jwt.NewNumericDate(exp.Add(-time.Hour)), ExpiresAt: jwt.NewNumericDate(exp)}).SignedString([]byte(jwtSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
