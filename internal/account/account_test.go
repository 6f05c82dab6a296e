package account_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/store/memory"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var secret = []byte(strings.Repeat("s", 32))

func newService(t testing.TB) (*account.Service, *memory.Accounts, *clock) {
	t.Helper()
	st := memory.NewAccounts()
	clk := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	tokens, err := account.NewTokens(secret, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return account.New(st, account.Options{Tokens: tokens, PasswordCost: bcrypt.MinCost, Now: clk.now}), st, clk
}

func wantUnauthenticated(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !errors.Is(err, errdefs.ErrUnauthenticated) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: %v, want unauthenticated %q", what, err, msg)
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	svc, st, _ := newService(t)
	serverKey := account.NewKey()
	admin, err := svc.Bootstrap(ctx, "Admin@Localhost", []account.ServerKey{{Key: serverKey, Name: "server key"}})
	if err != nil || admin.Role != account.RoleAdmin || admin.Email != "admin@localhost" {
		t.Fatalf("first start: %+v %v", admin, err)
	}
	if first, _ := svc.FirstAdmin(ctx); first != admin.ID {
		t.Errorf("first admin recorded as %q, want %q", first, admin.ID)
	}
	id, err := svc.Authenticate(ctx, serverKey)
	if err != nil || id.UserID != admin.ID || id.KeyID != account.KeyID(serverKey) || !id.IsAdmin() {
		t.Fatalf("the server key after first start: %+v %v", id, err)
	}
	// A second start changes nothing.
	if again, err := svc.Bootstrap(ctx, "admin@localhost", []account.ServerKey{{Key: serverKey}}); err != nil || again.ID != admin.ID {
		t.Fatalf("second start: %+v %v", again, err)
	}
	if users, _ := st.ListUsers(ctx); len(users) != 1 {
		t.Errorf("%d users after two starts", len(users))
	}
	// A revoked server key stays revoked across starts; a new one (rotated PADDOCK_API_KEY)
	// is imported.
	if err := svc.RevokeKey(ctx, admin.ID, account.KeyID(serverKey)); err != nil {
		t.Fatal(err)
	}
	rotated := account.NewKey()
	if _, err := svc.Bootstrap(ctx, "admin@localhost", []account.ServerKey{{Key: serverKey}, {Key: rotated}}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, serverKey)
	wantUnauthenticated(t, "revoked server key after a restart", err, "invalid API key")
	if _, err := svc.Authenticate(ctx, rotated); err != nil {
		t.Errorf("rotated server key: %v", err)
	}
}

func TestKeysAndUsers(t *testing.T) {
	ctx := context.Background()
	svc, st, clk := newService(t)
	admin, _ := svc.Bootstrap(ctx, "admin@localhost", nil)
	alice, err := svc.CreateUser(ctx, account.NewUser{Email: "Alice@Example.com"})
	if err != nil || alice.Email != "alice@example.com" || alice.Name != "alice" || alice.Role != account.RoleUser {
		t.Fatalf("create alice: %+v %v", alice, err)
	}
	if _, err := svc.CreateUser(ctx, account.NewUser{Email: "ALICE@example.com"}); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("same email again: %v", err)
	}
	for _, bad := range []account.NewUser{{Email: "not-an-email"}, {Email: "a@b.c", Role: "root"}, {Email: "b@b.c", Password: "short"}} {
		if _, err := svc.CreateUser(ctx, bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("create %+v: %v, want invalid argument", bad, err)
		}
	}

	key, k, err := svc.CreateKey(ctx, alice.ID, "laptop", time.Hour)
	if err != nil || !account.LooksLikeKey(key) || k.ExpiresAt == nil {
		t.Fatalf("create key: %q %+v %v", key, k, err)
	}
	if stored, _ := st.GetKeyByHash(ctx, account.HashKey(key)); stored == nil || strings.Contains(stored.Hash, key) {
		t.Fatal("the store does not hold the key's hash (only)")
	}
	id, err := svc.Authenticate(ctx, key)
	if err != nil || id.UserID != alice.ID || id.IsAdmin() {
		t.Fatalf("alice's key: %+v %v", id, err)
	}
	// Last-used times are written in batches: the first use at once, later ones a minute on.
	keys, _ := st.ListKeys(ctx, alice.ID)
	if keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(clk.now()) {
		t.Errorf("last used after the first use: %v", keys[0].LastUsedAt)
	}
	clk.add(10 * time.Second)
	svc.Authenticate(ctx, key)
	if keys, _ := st.ListKeys(ctx, alice.ID); keys[0].LastUsedAt.Equal(clk.now()) {
		t.Error("a use 10s after the last write was written at once")
	}
	if keys, _ := svc.ListKeys(ctx, alice.ID); !keys[0].LastUsedAt.Equal(clk.now()) {
		t.Errorf("the service's listing lacks the pending last-used time: %v", keys[0].LastUsedAt)
	}
	svc.Flush(ctx)
	if keys, _ := st.ListKeys(ctx, alice.ID); !keys[0].LastUsedAt.Equal(clk.now()) {
		t.Error("Flush did not write the pending last-used time")
	}

	// Expiry, disabling and revocation take effect at once, whatever is cached.
	clk.add(time.Hour)
	_, err = svc.Authenticate(ctx, key)
	wantUnauthenticated(t, "expired key", err, "API key expired")
	forever, _, _ := svc.CreateKey(ctx, alice.ID, "", 0)
	if _, err := svc.Authenticate(ctx, forever); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if _, err := svc.UpdateUser(ctx, "alice@example.com", account.Patch{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, forever)
	wantUnauthenticated(t, "disabled user's key", err, "account disabled")
	svc.UpdateUser(ctx, "alice@example.com", account.Patch{Disabled: &no})
	if err := svc.RevokeKey(ctx, admin.ID, account.KeyID(forever)); !errdefs.IsNotFound(err) {
		t.Errorf("revoking alice's key as another user's: %v, want not found", err)
	}
	if err := svc.RevokeKey(ctx, alice.ID, account.KeyID(forever)); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Authenticate(ctx, forever)
	wantUnauthenticated(t, "revoked key", err, "invalid API key")

	// The last enabled admin stays.
	user := account.RoleUser
	if _, err := svc.UpdateUser(ctx, "admin@localhost", account.Patch{Role: &user}); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("demote the last admin: %v", err)
	}
	if _, err := svc.UpdateUser(ctx, "admin@localhost", account.Patch{Disabled: &yes}); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("disable the last admin: %v", err)
	}
	if err := svc.DeleteUser(ctx, "admin@localhost"); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("delete the last admin: %v", err)
	}
	adminRole := account.RoleAdmin
	svc.UpdateUser(ctx, "alice@example.com", account.Patch{Role: &adminRole})
	if err := svc.DeleteUser(ctx, "admin@localhost"); err != nil {
		t.Errorf("delete an admin when another is left: %v", err)
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	svc, _, clk := newService(t)
	svc.Bootstrap(ctx, "admin@localhost", nil)
	bob, _ := svc.CreateUser(ctx, account.NewUser{Email: "bob@example.com", Password: "correct horse"})
	svc.CreateUser(ctx, account.NewUser{Email: "keysonly@example.com"})
	for _, c := range []struct{ email, password string }{
		{"bob@example.com", "wrong horse"}, {"nobody@example.com", "correct horse"}, {"keysonly@example.com", ""},
	} {
		_, _, err := svc.Login(ctx, c.email, c.password)
		wantUnauthenticated(t, "login "+c.email, err, "incorrect email or password")
	}
	token, exp, err := svc.Login(ctx, "BOB@example.com", "correct horse")
	if err != nil || !exp.Equal(clk.now().Add(time.Hour)) {
		t.Fatalf("login: %v %v", exp, err)
	}
	id, err := svc.Authenticate(ctx, token)
	if err != nil || id.UserID != bob.ID || !strings.HasPrefix(id.KeyID, "token-") {
		t.Fatalf("token: %+v %v", id, err)
	}
	if err := svc.ChangePassword(ctx, bob.ID, "wrong", "battery staple"); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("change password with a wrong current one: %v", err)
	}
	if err := svc.ChangePassword(ctx, bob.ID, "correct horse", "battery staple"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Login(ctx, "bob@example.com", "battery staple"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	yes := true
	svc.UpdateUser(ctx, "bob@example.com", account.Patch{Disabled: &yes})
	_, err = svc.Authenticate(ctx, token)
	wantUnauthenticated(t, "disabled user's token", err, "account disabled")
	_, _, err = svc.Login(ctx, "bob@example.com", "battery staple")
	wantUnauthenticated(t, "disabled user's login", err, "incorrect email or password")
	clk.add(time.Hour)
	_, err = svc.Authenticate(ctx, token)
	wantUnauthenticated(t, "expired token", err, "login token expired")
}

func TestTokenRotation(t *testing.T) {
	old, _ := account.NewTokens(secret, nil, time.Hour)
	u := &account.User{ID: "usr_1", Email: "a@example.com"}
	token, _, err := old.Issue(u)
	if err != nil {
		t.Fatal(err)
	}
	newSecret := []byte(strings.Repeat("n", 32))
	rotating, _ := account.NewTokens(newSecret, secret, time.Hour)
	if sub, _, err := rotating.Parse(token); err != nil || sub != "usr_1" {
		t.Errorf("a token of the previous secret during rotation: %q %v", sub, err)
	}
	rotated, _ := account.NewTokens(newSecret, nil, time.Hour)
	if _, _, err := rotated.Parse(token); !errors.Is(err, errdefs.ErrUnauthenticated) {
		t.Errorf("a token of a secret no longer accepted: %v", err)
	}
	if _, err := account.NewTokens([]byte("short"), nil, time.Hour); err == nil {
		t.Error("a short secret was accepted")
	}
}

// FuzzAuthenticate: whatever is presented, the answer is an identity of a real key or
// token, or ErrUnauthenticated, never a panic or another error.
func FuzzAuthenticate(f *testing.F) {
	svc, _, _ := newService(f)
	ctx := context.Background()
	svc.Bootstrap(ctx, "admin@localhost", nil)
	u, _ := svc.CreateUser(ctx, account.NewUser{Email: "f@example.com", Password: "fuzz-password"})
	key, _, _ := svc.CreateKey(ctx, u.ID, "", 0)
	token, _, _ := svc.Login(ctx, "f@example.com", "fuzz-password")
	for _, seed := range []string{"", key, token, "e2b_", key[:len(key)-1], token + "x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		strings.Replace(token, ".", "..", 1), "Bearer " + key} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, presented string) {
		id, err := svc.Authenticate(ctx, presented)
		if err != nil {
			if !errors.Is(err, errdefs.ErrUnauthenticated) {
				t.Fatalf("%q: %v, want unauthenticated", presented, err)
			}
			return
		}
		if id.UserID != u.ID {
			t.Fatalf("%q authenticated as %+v", presented, id)
		}
	})
}

// FuzzParseToken: the JWT parser refuses every token it did not sign, without panicking.
func FuzzParseToken(f *testing.F) {
	tokens, _ := account.NewTokens(secret, nil, time.Hour)
	good, _, _ := tokens.Issue(&account.User{ID: "usr_1"})
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1c3JfMSIsImV4cCI6OTk5OTk5OTk5OX0.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		sub, _, err := tokens.Parse(token)
		if err == nil && sub != "usr_1" {
			t.Fatalf("%q parsed as %q", token, sub)
		}
		if err != nil && !errors.Is(err, errdefs.ErrUnauthenticated) {
			t.Fatalf("%q: %v", token, err)
		}
	})
}

func TestKeyFormat(t *testing.T) {
	k := account.NewKey()
	if !account.LooksLikeKey(k) || account.LooksLikeKey(strings.ToUpper(k)) || account.LooksLikeKey(k+"0") {
		t.Errorf("key format: %q", k)
	}
	if id := account.KeyID(k); len(id) != 16 || strings.Contains(k, id[4:]) {
		t.Errorf("key ID %q", id)
	}
}
