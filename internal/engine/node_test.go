package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// TestPerNodeDrivers runs two replicas on one Postgres schema, each with a driver of its own
// (two machines with runc): a sandbox is operated only through its node's replica (the
// other answers 409 naming the node), the other replica's start-up and periodic reconcile
// leave it alone, and its node's replica reaps it when it expires, leader or not.
func TestPerNodeDrivers(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	open := func(node string) *Engine {
		drv, err := fake.New(testenv.TempDir(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := Open(ctx, Config{DataDir: testenv.TempDir(t), Store: db, Driver: drv, Images: baseImage{},
			Node: node, ReapInterval: 10 * time.Millisecond, ReconcileInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close(context.WithoutCancel(ctx)) })
		return eng
	}
	one := open("m1")
	sb, err := one.Create(ctx, sandbox.Spec{Name: "s"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if sb.Node != "m1" {
		t.Fatalf("the record's node = %q, want m1", sb.Node)
	}
	two := open("m2") // its start-up reconcile sees s, which its driver does not hold
	calls := map[string]func() error{
		"stop":   func() error { _, err := two.Stop(ctx, "s"); return err },
		"delete": func() error { return two.Delete(ctx, "s") },
		"exec": func() error {
			_, err := two.Exec(ctx, "s", manager.ExecRequest{Command: []string{"true"}})
			return err
		},
		"recent": func() error { _, err := two.GetRecent(ctx, "s"); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), `node "m1"`) {
			t.Errorf("%s through the other node's replica: %v, want 409 naming m1", name, err)
		}
	}
	if got, err := two.Get(ctx, "s"); err != nil || got.State != sandbox.StateRunning {
		t.Fatalf("the other replica reads s as %v (err %v), want running", got, err)
	}
	// A few periodic passes on both (one of them leads) leave s running.
	time.Sleep(200 * time.Millisecond)
	if got, err := one.Get(ctx, "s"); err != nil || got.State != sandbox.StateRunning {
		t.Fatalf("after reconcile passes s is %v (err %v), want running", got.State, err)
	}
	if _, err := one.SetExpiry(ctx, "s", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "m1's replica reaps its expired sandbox", func() bool {
		_, err := two.Get(ctx, "s")
		return errdefs.IsNotFound(err)
	})
}
