package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/errdefs"
)

func shareIDs(t *testing.T, what string, shs []*account.Share, err error, field func(*account.Share) string) []string {
	t.Helper()
	must(t, what, err)
	out := []string{}
	for _, sh := range shs {
		out = append(out, field(sh)+":"+string(sh.Role))
	}
	return out
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func testShares(t *testing.T, s account.Store) {
	ctx := context.Background()
	t0 := time.Unix(1700000000, 0).UTC()
	must(t, "create a", s.CreateUser(ctx, user("usr_a", "a@x", t0)))
	must(t, "create b", s.CreateUser(ctx, user("usr_b", "b@x", t0)))
	must(t, "share 1 a", s.PutShare(ctx, &account.Share{SandboxID: "sb1", UserID: "usr_a", Role: account.ShareViewer, CreatedAt: t0}))
	must(t, "share 1 b", s.PutShare(ctx, &account.Share{SandboxID: "sb1", UserID: "usr_b", Role: account.ShareOperator, CreatedAt: t0.Add(time.Second)}))
	must(t, "share 2 a", s.PutShare(ctx, &account.Share{SandboxID: "sb2", UserID: "usr_a", Role: account.ShareOperator, CreatedAt: t0.Add(2 * time.Second)}))
	// Put again replaces the role.
	must(t, "reshare 1 a", s.PutShare(ctx, &account.Share{SandboxID: "sb1", UserID: "usr_a", Role: account.ShareOperator, CreatedAt: t0}))

	got, err := s.GetShare(ctx, "sb1", "usr_a")
	must(t, "get", err)
	if got.Role != account.ShareOperator || !got.CreatedAt.Equal(t0) || got.SandboxID != "sb1" || got.UserID != "usr_a" {
		t.Errorf("get share = %+v", got)
	}
	if _, err := s.GetShare(ctx, "sb2", "usr_b"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("get missing share: %v, want not found", err)
	}
	byUser := func(sh *account.Share) string { return sh.UserID }
	bySandbox := func(sh *account.Share) string { return sh.SandboxID }
	shs, err := s.ListShares(ctx, "sb1")
	sameStrings(t, "shares of sb1", shareIDs(t, "list sb1", shs, err, byUser), []string{"usr_a:operator", "usr_b:operator"})
	shs, err = s.ListSharesOf(ctx, "usr_a")
	sameStrings(t, "shares of a", shareIDs(t, "list a", shs, err, bySandbox), []string{"sb1:operator", "sb2:operator"})

	must(t, "unshare", s.DeleteShare(ctx, "sb1", "usr_b"))
	must(t, "unshare again", s.DeleteShare(ctx, "sb1", "usr_b"))
	shs, err = s.ListShares(ctx, "sb1")
	sameStrings(t, "after unshare", shareIDs(t, "list sb1", shs, err, byUser), []string{"usr_a:operator"})

	must(t, "delete sandbox shares", s.DeleteSandboxShares(ctx, "sb1"))
	shs, err = s.ListShares(ctx, "sb1")
	sameStrings(t, "after sandbox delete", shareIDs(t, "list sb1", shs, err, byUser), []string{})
	shs, err = s.ListSharesOf(ctx, "usr_a")
	sameStrings(t, "a keeps sb2", shareIDs(t, "list a", shs, err, bySandbox), []string{"sb2:operator"})
}

func testShareNeedsUser(t *testing.T, s account.Store) {
	ctx := context.Background()
	err := s.PutShare(ctx, &account.Share{SandboxID: "sb1", UserID: "usr_none", Role: account.ShareViewer, CreatedAt: time.Now()})
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("share with unknown user: %v, want not found", err)
	}
	must(t, "create", s.CreateUser(ctx, user("usr_a", "a@x", time.Now())))
	err = s.PutShare(ctx, &account.Share{SandboxID: "sb1", UserID: "usr_a", Role: "owner", CreatedAt: time.Now()})
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("share with bad role: %v, want invalid argument", err)
	}
}

func testDeleteUserTakesSharesAndQuota(t *testing.T, s account.Store) {
	ctx := context.Background()
	must(t, "create", s.CreateUser(ctx, user("usr_a", "a@x", time.Now())))
	must(t, "share", s.PutShare(ctx, &account.Share{SandboxID: "sb1", UserID: "usr_a", Role: account.ShareViewer, CreatedAt: time.Now()}))
	must(t, "quota", s.SetQuota(ctx, "usr_a", account.Quota{Sandboxes: 2}))
	must(t, "delete", s.DeleteUser(ctx, "usr_a"))
	if shs, err := s.ListShares(ctx, "sb1"); err != nil || len(shs) != 0 {
		t.Errorf("shares after user delete = %v, %v", shs, err)
	}
	if _, err := s.GetQuota(ctx, "usr_a"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("quota after user delete: %v, want not found", err)
	}
}

func testQuota(t *testing.T, s account.Store) {
	ctx := context.Background()
	if err := s.SetQuota(ctx, "usr_none", account.Quota{Sandboxes: 1}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("quota of unknown user: %v, want not found", err)
	}
	must(t, "create", s.CreateUser(ctx, user("usr_a", "a@x", time.Now())))
	if _, err := s.GetQuota(ctx, "usr_a"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unset quota: %v, want not found", err)
	}
	want := account.Quota{Sandboxes: 3, MemoryMB: 2048, VCPUs: 4, CreatesPerMinute: 10, Sessions: 2}
	must(t, "set", s.SetQuota(ctx, "usr_a", want))
	want.Sessions = 5
	must(t, "set again", s.SetQuota(ctx, "usr_a", want))
	got, err := s.GetQuota(ctx, "usr_a")
	must(t, "get", err)
	if *got != want {
		t.Errorf("quota = %+v, want %+v", *got, want)
	}
}
