package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
)

// TestDownloadTokens: a download token opens the file it names, as its user, until it
// expires; it is no login token and a login token is none of it; a disabled user's stop.
func TestDownloadTokens(t *testing.T) {
	ctx := context.Background()
	svc, _, clk := newService(t)
	svc.Bootstrap(ctx, "admin@localhost", nil)
	bob, _ := svc.CreateUser(ctx, account.NewUser{Email: "bob@example.com", Password: "correct horse"})
	asBob := account.WithIdentity(ctx, account.Identity{UserID: bob.ID, Email: bob.Email, Role: bob.Role, KeyID: "key_1"})
	if _, _, err := svc.SignDownload(ctx, "box", "tmp/x", time.Minute); err == nil {
		t.Error("signed without an identity")
	}
	for _, ttl := range []time.Duration{0, -time.Second, account.MaxDownloadTTL + time.Second} {
		if _, _, err := svc.SignDownload(asBob, "box", "tmp/x", ttl); err == nil {
			t.Errorf("ttl %v accepted", ttl)
		}
	}
	tok, exp, err := svc.SignDownload(asBob, "box", "tmp/x", time.Minute)
	if err != nil || !exp.Equal(clk.now().Add(time.Minute)) {
		t.Fatalf("sign: %v %v", exp, err)
	}
	id, err := svc.AuthenticateDownload(ctx, tok, "box", "tmp/x")
	if err != nil || id.UserID != bob.ID || id.KeyID != "key_1" {
		t.Fatalf("authenticate: %+v %v", id, err)
	}
	for _, c := range []struct{ sandbox, path string }{{"box", "tmp/y"}, {"other", "tmp/x"}, {"box", "tmp/x/"}} {
		_, err := svc.AuthenticateDownload(ctx, tok, c.sandbox, c.path)
		wantUnauthenticated(t, c.sandbox+" "+c.path, err, "invalid or expired download URL")
	}
	_, err = svc.Authenticate(ctx, tok)
	wantUnauthenticated(t, "a download token as a login token", err, "invalid login token")
	login, _, _ := svc.Login(ctx, "bob@example.com", "correct horse")
	_, err = svc.AuthenticateDownload(ctx, login, "box", "tmp/x")
	wantUnauthenticated(t, "a login token as a download token", err, "invalid or expired download URL")

	clk.add(time.Minute + time.Second)
	_, err = svc.AuthenticateDownload(ctx, tok, "box", "tmp/x")
	wantUnauthenticated(t, "expired", err, "invalid or expired download URL")

	tok, _, _ = svc.SignDownload(asBob, "box", "tmp/x", time.Minute)
	yes := true
	svc.UpdateUser(ctx, "bob@example.com", account.Patch{Disabled: &yes})
	_, err = svc.AuthenticateDownload(ctx, tok, "box", "tmp/x")
	wantUnauthenticated(t, "disabled user", err, "account disabled")
}
