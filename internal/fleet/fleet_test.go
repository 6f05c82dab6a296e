package fleet_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// schedules is a Schedules that counts calls.
type schedules struct {
	mu      sync.Mutex
	deleted []string
}

func (s *schedules) Counts(context.Context, string) (int, int, error) { return 3, 2, nil }

func (s *schedules) DeleteAgent(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, id)
	return nil
}

func newService(t *testing.T, opts fleet.Options) (*fleet.Service, *manager.Manager, *fake.Driver) {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sbs, _ := m.List(context.Background(), sandbox.ListFilter{})
		for _, sb := range sbs {
			_ = m.Delete(context.Background(), sb.ID)
		}
		_ = m.Close(context.Background())
	})
	opts.Manager, opts.Store, opts.Workspace = m, memory.NewFleet(), t.TempDir()
	svc, err := fleet.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc, m, drv
}

func as(user string) context.Context {
	return account.WithIdentity(context.Background(), account.Identity{UserID: user, Role: account.RoleUser})
}

// TestPlugins: the start hook runs on create and every start and answers
// credentials_injection; Schedules counts and is told of a delete.
func TestPlugins(t *testing.T) {
	sch := &schedules{}
	starts := 0
	svc, _, _ := newService(t, fleet.Options{Schedules: sch, StartHook: func(_ context.Context, a *fleet.Agent) (string, error) {
		starts++
		return "success", nil
	}})
	ctx := as("usr_alice")
	a, cred, err := svc.Create(ctx, fleet.CreateRequest{Name: "hooked", Runtime: "shell"})
	if err != nil || cred != "success" || starts != 1 {
		t.Fatalf("create: %v %q starts %d", err, cred, starts)
	}
	if _, err := svc.Stop(ctx, "hooked"); err != nil {
		t.Fatal(err)
	}
	if _, cred, err := svc.Start(ctx, "hooked"); err != nil || cred != "success" || starts != 2 {
		t.Errorf("start: %v %q starts %d", err, cred, starts)
	}
	if total, enabled, err := svc.ScheduleCounts(ctx, a); total != 3 || enabled != 2 || err != nil {
		t.Errorf("counts %d %d %v", total, enabled, err)
	}
	if err := svc.Delete(ctx, "hooked"); err != nil {
		t.Fatal(err)
	}
	if len(sch.deleted) != 1 || sch.deleted[0] != a.ID {
		t.Errorf("schedules deleted for %v, want %s", sch.deleted, a.ID)
	}
}

// TestAccess: another user's agent is not found for every operation; without a share store
// nobody but the owner (and the system) sees it.
func TestAccess(t *testing.T) {
	svc, _, _ := newService(t, fleet.Options{})
	if _, _, err := svc.Create(as("usr_alice"), fleet.CreateRequest{Name: "mine", Runtime: "shell"}); err != nil {
		t.Fatal(err)
	}
	bob := as("usr_bob")
	for name, op := range map[string]func() error{
		"get":    func() error { _, _, err := svc.Get(bob, "mine"); return err },
		"start":  func() error { _, _, err := svc.Start(bob, "mine"); return err },
		"stop":   func() error { _, err := svc.Stop(bob, "mine"); return err },
		"delete": func() error { return svc.Delete(bob, "mine") },
		"rename": func() error { _, err := svc.Rename(bob, "mine", "yours"); return err },
		"logs":   func() error { _, err := svc.Logs(bob, "mine", 10); return err },
		"tags":   func() error { _, err := svc.SetTags(bob, "mine", nil); return err },
	} {
		if err := op(); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("bob %s: %v, want not found", name, err)
		}
	}
	if list, err := svc.List(bob, nil); err != nil || len(list) != 0 {
		t.Errorf("bob's list: %v %v", list, err)
	}
	if list, err := svc.List(context.Background(), nil); err != nil || len(list) != 1 {
		t.Errorf("the system's list: %v %v", list, err)
	}
}

// TestRecreate: an agent whose sandbox was deleted behind the fleet's back gets a new one on
// its workspace volume at the next start.
func TestRecreate(t *testing.T) {
	svc, m, drv := newService(t, fleet.Options{})
	ctx := as("usr_alice")
	a, _, err := svc.Create(ctx, fleet.CreateRequest{Name: "phoenix", Runtime: "shell"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(context.Background(), a.SandboxID); err != nil {
		t.Fatal(err)
	}
	if st := svc.Status(ctx, a); st != "not_found" {
		t.Errorf("status without a sandbox: %s", st)
	}
	b, _, err := svc.Start(ctx, "phoenix")
	if err != nil {
		t.Fatal(err)
	}
	if b.SandboxID == a.SandboxID || svc.Status(ctx, b) != "running" {
		t.Errorf("after start: sandbox %s (was %s), %s", b.SandboxID, a.SandboxID, svc.Status(ctx, b))
	}
	mounts, err := drv.Mounts(b.SandboxID)
	if err != nil || len(mounts) != 1 || mounts[0].Volume != a.WorkspaceVolume {
		t.Errorf("new sandbox's mounts %+v %v, want the same workspace %s", mounts, err, a.WorkspaceVolume)
	}
}
