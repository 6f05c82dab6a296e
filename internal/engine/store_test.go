package engine

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/testenv"
)

// baseImage resolves "base" to an empty image: the fake driver runs nothing.
type baseImage struct{}

func (baseImage) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

func openFakeEngine(t *testing.T, store string) (*Engine, error) {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return Open(context.Background(), Config{DataDir: testenv.TempDir(t), Store: store, Driver: drv, Images: baseImage{}})
}

// TestPostgresStore opens an engine with --store postgres://...: what it creates (sandboxes,
// Trinity agents) is in that database, and an unreachable database fails Open with a message that names it without
// its password.
func TestPostgresStore(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	ctx := context.Background()
	eng, err := openFakeEngine(t, db)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := eng.Create(ctx, sandbox.Spec{Name: "on-postgres"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	direct, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if got, err := direct.GetSandbox(ctx, "on-postgres"); err != nil || got.ID != sb.ID {
		t.Errorf("the engine's sandbox in Postgres: %+v %v", got, err)
	}
	// Trinity's agents are kept there too, not in memory.
	agent := &fleet.Agent{ID: "agt_pg", Name: "pg-agent", CreatedAt: time.Now()}
	if err := eng.Fleet.CreateAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	if got, err := direct.GetAgent(ctx, "pg-agent"); err != nil || got.ID != agent.ID {
		t.Errorf("the engine's Trinity agent in Postgres: %+v %v", got, err)
	}

	u, _ := url.Parse(db)
	password, _ := u.User.Password()
	u.Host = "127.0.0.1:1"
	_, err = openFakeEngine(t, u.String())
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "127.0.0.1:1") ||
		password == "" || strings.Contains(err.Error(), password) {
		t.Errorf("unreachable store: %v; want an unavailable error naming 127.0.0.1:1 without the password", err)
	}
}
