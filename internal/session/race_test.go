package session_test

import (
	"context"
	"errors"
	"os"
	"os/user"
	"strconv"
	"sync"
	"testing"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/session"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// images resolves "base" to an image without layers whose processes run as the test's user
// (the fake driver's guests run on the host).
type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref != "" && ref != "base" {
		return nil, errdefs.NotFound("image %q not found", ref)
	}
	return &sandbox.Image{Ref: "base", Config: sandbox.ImageConfig{Env: []string{"PATH=/usr/bin:/bin"},
		User: strconv.Itoa(os.Geteuid()), WorkingDir: os.TempDir()}}, nil
}

// newRegistry returns a registry on a fake-driver manager; quota, when given, is every
// user's quota.
func newRegistry(t *testing.T, quota ...account.Quota) (*session.Registry, *manager.Manager) {
	t.Helper()
	// A kernel's code context starts in its user's home, as E2B's does.
	// (A uid without a passwd entry has "/".)
	if u, err := user.Current(); err == nil {
		if fi, err := os.Stat(u.HomeDir); err != nil || !fi.IsDir() {
			testenv.Require(t, "interpreters", "code contexts start in the user's home, and the home of "+u.Username+" ("+u.HomeDir+") does not exist: run as a user with a home")
		}
	}
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := manager.Config{Driver: drv, Store: memory.New(), Images: images{}}
	if len(quota) > 0 {
		cfg.Quota = quota[0]
	}
	m, err := manager.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		sbs, _ := m.List(ctx, sandbox.ListFilter{})
		for _, sb := range sbs {
			_ = m.Delete(ctx, sb.ID)
		}
		_ = m.Close(ctx)
	})
	return session.New(m, session.Options{}), m
}

func countSandboxes(m *manager.Manager) int {
	sbs, _ := m.List(context.Background(), sandbox.ListFilter{})
	return len(sbs)
}

// concurrently runs f n times at once and returns the kernels and errors, by call.
func concurrently(n int, f func() (*session.Kernel, error)) ([]*session.Kernel, []error) {
	ks, errs := make([]*session.Kernel, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ks[i], errs[i] = f()
		}()
	}
	close(start)
	wg.Wait()
	return ks, errs
}

// TestFirstCallsMakeOneKernel: many first calls for the same new session name at once (the
// first POST /sessions/{name}/execute of several clients) make one kernel and one sandbox;
// every call gets that kernel. Another owner's session of that name is another kernel.
func TestFirstCallsMakeOneKernel(t *testing.T) {
	reg, m := newRegistry(t)
	ctx := context.Background()
	const n = 16
	ks, errs := concurrently(n, func() (*session.Kernel, error) {
		return reg.GetOrCreate(ctx, session.CreateRequest{Name: "shared", Language: "bash", Owner: "alice", Session: true})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if ks[i].ID != ks[0].ID {
			t.Errorf("call %d got kernel %s, call 0 got %s", i, ks[i].ID, ks[0].ID)
		}
	}
	if got := reg.List(ctx, "alice"); len(got) != 1 {
		t.Errorf("alice has %d kernels, want 1", len(got))
	}
	if sbs, _ := m.List(ctx, sandbox.ListFilter{}); len(sbs) != 1 {
		t.Errorf("%d sandboxes for one session, want 1", len(sbs))
	}
	res, err := reg.Execute(ctx, "shared", "alice", "", "echo ok", 0)
	if err != nil || res.Output != "ok\n" {
		t.Errorf("execute in the shared kernel: %+v %v", res, err)
	}
	if k, err := reg.GetOrCreate(ctx, session.CreateRequest{Name: "shared", Language: "bash", Owner: "bob", Session: true}); err != nil || k.ID == ks[0].ID {
		t.Errorf("bob's session of the same name: %v %v, want a kernel of its own", k, err)
	}
}

// TestConcurrentCreatesOneWins: of concurrent creations of one kernel name, one succeeds
// and the others are told the name is taken.
func TestConcurrentCreatesOneWins(t *testing.T) {
	reg, m := newRegistry(t)
	ctx := context.Background()
	const n = 8
	_, errs := concurrently(n, func() (*session.Kernel, error) {
		return reg.Create(ctx, session.CreateRequest{Name: "k", Language: "bash", Owner: "alice"})
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errdefs.ErrAlreadyExists):
			t.Errorf("create: %v, want success or already exists", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent creates succeeded, want 1", ok, n)
	}
	if sbs, _ := m.List(ctx, sandbox.ListFilter{}); len(sbs) != 1 {
		t.Errorf("%d sandboxes, want 1", len(sbs))
	}
}

// TestWaitersRetryAfterAFailedCreation: when the first call's creation fails, the calls that
// waited for it try themselves instead of sharing an error that was not theirs.
func TestWaitersRetryAfterAFailedCreation(t *testing.T) {
	reg, _ := newRegistry(t)
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, errs := concurrently(4, func() (*session.Kernel, error) {
		return reg.GetOrCreate(canceled, session.CreateRequest{Name: "s", Language: "bash", Owner: "alice", Session: true})
	})
	for _, err := range errs {
		if err == nil {
			t.Fatal("a creation under a canceled context succeeded")
		}
	}
	k, err := reg.GetOrCreate(ctx, session.CreateRequest{Name: "s", Language: "bash", Owner: "alice", Session: true})
	if err != nil || k == nil {
		t.Fatalf("after failed creations: %v", err)
	}
}
