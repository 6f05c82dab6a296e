package manager_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// tenants is a manager with an account store holding alice, bob and an admin.
type tenants struct {
	m                 *manager.Manager
	drv               *fake.Driver
	accts             *memory.Accounts
	alice, bob, admin context.Context
	aliceID, bobID    string
}

func newTenants(t *testing.T, quota account.Quota) *tenants {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	accts := memory.NewAccounts()
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{},
		Accounts: accts, Quota: quota})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	ctx := context.Background()
	as := func(id string, role account.Role) context.Context {
		if err := accts.CreateUser(ctx, &account.User{ID: id, Email: id + "@x", Role: role, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return account.WithIdentity(ctx, account.Identity{UserID: id, Email: id + "@x", Role: role, KeyID: "key-" + id})
	}
	return &tenants{m: m, drv: drv, accts: accts, alice: as("usr_alice", account.RoleUser), bob: as("usr_bob", account.RoleUser),
		admin: as("usr_admin", account.RoleAdmin), aliceID: "usr_alice", bobID: "usr_bob"}
}

func TestOwnershipAndVisibility(t *testing.T) {
	tn := newTenants(t, account.Quota{})
	sb, err := tn.m.Create(tn.alice, sandbox.Spec{Name: "alices"}, "key-usr_alice")
	if err != nil {
		t.Fatal(err)
	}
	if sb.Owner != tn.aliceID {
		t.Fatalf("owner = %q, want the user ID %q", sb.Owner, tn.aliceID)
	}
	if _, err := tn.m.Create(tn.bob, sandbox.Spec{Name: "bobs"}, ""); err != nil {
		t.Fatal(err)
	}
	names := func(ctx context.Context) []string {
		sbs, err := tn.m.List(ctx, sandbox.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, sb := range sbs {
			out = append(out, sb.Name)
		}
		return out
	}
	if got := fmt.Sprint(names(tn.alice)); got != "[alices]" {
		t.Errorf("alice lists %s", got)
	}
	if got := fmt.Sprint(names(tn.admin)); got != "[alices bobs]" {
		t.Errorf("admin lists %s", got)
	}
	if got := fmt.Sprint(names(context.Background())); got != "[alices bobs]" {
		t.Errorf("the system lists %s", got)
	}

	ops := map[string]func(ctx context.Context) error{
		"get":    func(ctx context.Context) error { _, err := tn.m.Get(ctx, "alices"); return err },
		"recent": func(ctx context.Context) error { _, err := tn.m.GetRecent(ctx, "alices"); return err },
		"stats":  func(ctx context.Context) error { _, err := tn.m.Stats(ctx, "alices"); return err },
		"exec": func(ctx context.Context) error {
			_, err := tn.m.Exec(ctx, "alices", manager.ExecRequest{Command: []string{"true"}})
			return err
		},
		"stat file": func(ctx context.Context) error { _, err := tn.m.StatFile(ctx, "alices", "/", ""); return err },
		"extend":    func(ctx context.Context) error { _, err := tn.m.Extend(ctx, "alices", time.Minute); return err },
		"stop":      func(ctx context.Context) error { _, err := tn.m.Stop(ctx, "alices"); return err },
		"delete":    func(ctx context.Context) error { return tn.m.Delete(ctx, "alices") },
	}
	for name, op := range ops {
		if err := op(tn.bob); !errors.Is(err, errdefs.ErrNotFound) || err.Error() != `sandbox "alices" not found` {
			t.Errorf("bob %s alice's sandbox: %v, want the not-found of a missing sandbox", name, err)
		}
	}
	// A viewer share lets bob read, not operate; operator lets him exec and stop, not delete.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tn.accts.PutShare(context.Background(), &account.Share{SandboxID: sb.ID, UserID: tn.bobID, Role: account.ShareViewer, CreatedAt: time.Now()}))
	if got := fmt.Sprint(names(tn.bob)); got != "[alices bobs]" {
		t.Errorf("bob with a share lists %s", got)
	}
	for _, name := range []string{"get", "recent", "stats"} {
		if err := ops[name](tn.bob); err != nil {
			t.Errorf("viewer %s: %v", name, err)
		}
	}
	for _, name := range []string{"exec", "stat file", "extend", "stop", "delete"} {
		if err := ops[name](tn.bob); !errors.Is(err, errdefs.ErrPermissionDenied) {
			t.Errorf("viewer %s: %v, want permission denied", name, err)
		}
	}
	must(tn.accts.PutShare(context.Background(), &account.Share{SandboxID: sb.ID, UserID: tn.bobID, Role: account.ShareOperator, CreatedAt: time.Now()}))
	for _, name := range []string{"exec", "stat file", "extend"} {
		if err := ops[name](tn.bob); err != nil {
			t.Errorf("operator %s: %v", name, err)
		}
	}
	if err := ops["delete"](tn.bob); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("operator delete: %v, want permission denied", err)
	}
	// The admin acts on anything; a delete takes the sandbox's shares with it.
	must(tn.m.Delete(tn.admin, "alices"))
	if shs, _ := tn.accts.ListShares(context.Background(), sb.ID); len(shs) != 0 {
		t.Errorf("shares left after delete: %v", shs)
	}
}

func TestQuota(t *testing.T) {
	tn := newTenants(t, account.Quota{Sandboxes: 2})
	for i := range 2 {
		if _, err := tn.m.Create(tn.alice, sandbox.Spec{Name: fmt.Sprintf("a%d", i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, err := tn.m.Create(tn.alice, sandbox.Spec{Name: "a2"}, "")
	if !errors.Is(err, errdefs.ErrResourceExhausted) || err.Error() != "quota exceeded: at most 2 running sandboxes, 2 in use" {
		t.Fatalf("third create: %v, want the sandbox quota", err)
	}
	if _, err := tn.m.Get(tn.admin, "a2"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("refused create left a record: %v", err)
	}
	if units, _ := tn.drv.List(context.Background()); len(units) != 2 {
		t.Errorf("driver holds %d units, want 2", len(units))
	}
	// Others are not affected; a stopped sandbox frees its place, and starting it takes one.
	if _, err := tn.m.Create(tn.bob, sandbox.Spec{Name: "b0"}, ""); err != nil {
		t.Errorf("bob: %v", err)
	}
	if _, err := tn.m.Create(tn.admin, sandbox.Spec{Name: "adm"}, ""); err != nil {
		t.Errorf("admin: %v", err)
	}
	if _, err := tn.m.Stop(tn.alice, "a0"); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.m.Create(tn.alice, sandbox.Spec{Name: "a2"}, ""); err != nil {
		t.Fatalf("create after a stop: %v", err)
	}
	if _, err := tn.m.Start(tn.alice, "a0"); !errors.Is(err, errdefs.ErrResourceExhausted) {
		t.Errorf("start over quota: %v", err)
	}
	// A per-user override wins over the default.
	if err := tn.accts.SetQuota(context.Background(), tn.aliceID, account.Quota{Sandboxes: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.m.Start(tn.alice, "a0"); err != nil {
		t.Errorf("start under the override: %v", err)
	}
}

func TestQuotaCreatesPerMinute(t *testing.T) {
	tn := newTenants(t, account.Quota{CreatesPerMinute: 2})
	for i := range 2 {
		sb, err := tn.m.Create(tn.alice, sandbox.Spec{Name: fmt.Sprintf("a%d", i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tn.m.Delete(tn.alice, sb.Name); err != nil {
			t.Fatal(err)
		}
	}
	_, err := tn.m.Create(tn.alice, sandbox.Spec{Name: "a2"}, "")
	if !errors.Is(err, errdefs.ErrResourceExhausted) || err.Error() != "quota exceeded: at most 2 sandbox creations a minute, 2 in the last minute" {
		t.Fatalf("third create in a minute: %v", err)
	}
	// A create refused for another reason does not count.
	if _, err := tn.m.Create(tn.bob, sandbox.Spec{Name: "b", Image: "missing"}, ""); err == nil {
		t.Fatal("create of a missing image succeeded")
	}
	if u, _ := tn.m.UsageOf(context.Background(), tn.bobID); u.CreatesLastMinute != 0 {
		t.Errorf("bob's failed create counted: %+v", u)
	}
}

// TestQuotaConcurrentCreates races creates at the boundary: never more than the quota.
func TestQuotaConcurrentCreates(t *testing.T) {
	const quota, tries = 3, 12
	tn := newTenants(t, account.Quota{Sandboxes: quota})
	var wg sync.WaitGroup
	var mu sync.Mutex
	made, refused := 0, 0
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tn.m.Create(tn.alice, sandbox.Spec{Name: fmt.Sprintf("c%d", i)}, "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case errors.Is(err, errdefs.ErrResourceExhausted):
				refused++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if made != quota || refused != tries-quota {
		t.Errorf("made %d, refused %d; want %d and %d", made, refused, quota, tries-quota)
	}
	sbs, _ := tn.m.List(tn.alice, sandbox.ListFilter{})
	units, _ := tn.drv.List(context.Background())
	if len(sbs) != quota || len(units) != quota {
		t.Errorf("%d records and %d units, want %d", len(sbs), len(units), quota)
	}
}
