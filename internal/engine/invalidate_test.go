package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/invalidate/pginvalidate"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// twoReplicas opens two engines on one Postgres schema and one fake driver, and waits until
// both listen for invalidations.
func twoReplicas(t *testing.T) [2]*Engine {
	t.Helper()
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var engs [2]*Engine
	for i := range engs {
		eng, err := Open(ctx, Config{DataDir: testenv.TempDir(t), Store: db, Driver: drv, Images: baseImage{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close(context.WithoutCancel(ctx)) })
		engs[i] = eng
		waitUntil(t, "the replica listens for invalidations", eng.Invalidate.(*pginvalidate.Bus).Listening)
	}
	return engs
}

// TestReplicaSeesRevokedKey: a key revoked through one replica is refused by the other, whose
// cache would keep it for an hour without the invalidation.
func TestReplicaSeesRevokedKey(t *testing.T) {
	engs := twoReplicas(t)
	ctx := context.Background()
	var svcs [2]*account.Service
	for i, eng := range engs {
		svcs[i] = account.New(eng.Accounts, account.Options{CacheTTL: time.Hour, Invalidate: eng.Invalidate})
	}
	u, err := svcs[0].CreateUser(ctx, account.NewUser{Email: "a@example.com", Role: account.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	secret, key, err := svcs[0].CreateKey(ctx, u.ID, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svcs[1].Authenticate(ctx, secret); err != nil {
		t.Fatalf("the other replica refuses a new key: %v", err)
	}
	start := time.Now()
	if err := svcs[0].RevokeKey(ctx, u.ID, key.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the other replica refuses the revoked key", func() bool {
		_, err := svcs[1].Authenticate(ctx, secret)
		return errors.Is(err, errdefs.ErrUnauthenticated)
	})
	t.Logf("refused by the other replica %v after the revocation", time.Since(start))
}

// TestReplicaSeesDeletedSandbox: a sandbox deleted through one replica is gone for the other,
// its cached record included.
func TestReplicaSeesDeletedSandbox(t *testing.T) {
	engs := twoReplicas(t)
	ctx := context.Background()
	sb, err := engs[0].Create(ctx, sandbox.Spec{Name: "s"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engs[1].GetRecent(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := engs[0].Delete(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := engs[1].Get(ctx, "s"); !errdefs.IsNotFound(err) {
		t.Fatalf("Get on the other replica after the delete: %v, want not found", err)
	}
	waitUntil(t, "the other replica's cache forgets the sandbox", func() bool {
		_, err := engs[1].GetRecent(ctx, sb.ID)
		return errdefs.IsNotFound(err)
	})
	t.Logf("gone from the other replica's cache %v after the delete", time.Since(start))
}
