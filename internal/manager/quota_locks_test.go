package manager_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/lock"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// boundedLocker is lock.Local behind a pool of slots, as pglock holds one database
// connection of a bounded pool per key held (or waited for in the database).
// Once gather is set, a sandbox lock is handed out only when that many are held (or after a
// second), so that the Starts of the test overlap however the goroutines are scheduled.
type boundedLocker struct {
	local lock.Local
	slots chan struct{}

	mu     sync.Mutex
	gather int
	held   int // sandbox locks held
	all    chan struct{}
}

func (b *boundedLocker) Lock(ctx context.Context, key string) (func(), error) {
	unlock, err := b.local.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		unlock()
		return nil, ctx.Err()
	}
	if strings.HasPrefix(key, "sandbox:") {
		b.mu.Lock()
		b.held++
		gather, all := b.gather, b.all
		if gather > 0 && b.held == gather {
			close(all)
		}
		b.mu.Unlock()
		if gather > 0 {
			select {
			case <-all:
			case <-time.After(time.Second):
			}
		}
		inner := unlock
		unlock = func() {
			b.mu.Lock()
			b.held--
			b.mu.Unlock()
			inner()
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-b.slots; unlock() }) }, nil
}

// gatherSandboxLocks makes the next n sandbox locks wait for each other (a second at most).
func (b *boundedLocker) gatherSandboxLocks(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gather, b.all = n, make(chan struct{})
}

func (b *boundedLocker) TryLock(ctx context.Context, key string) (func(), bool, error) {
	unlock, ok, err := b.local.TryLock(ctx, key)
	if !ok || err != nil {
		return nil, ok, err
	}
	select {
	case b.slots <- struct{}{}:
	default:
		unlock()
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { <-b.slots; unlock() }) }, true, nil
}

// TestStartNeverHoldsTwoLocks starts as many stopped sandboxes of a user with a quota at once
// as the locker has connections. Holding a sandbox's lock while waiting for the quota's, every
// Start held a connection and waited for another: none ever finished.
func TestStartNeverHoldsTwoLocks(t *testing.T) {
	const n = 4
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	locker := &boundedLocker{slots: make(chan struct{}, n)}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{},
		Locker: locker, Quota: account.Quota{Sandboxes: n}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	alice := account.WithIdentity(context.Background(), account.Identity{UserID: "usr_alice", Email: "alice@x", Role: account.RoleUser})
	for i := range n {
		name := fmt.Sprint("s", i)
		if _, err := m.CreateDedicated(alice, sandbox.Spec{Name: name}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Stop(alice, name); err != nil {
			t.Fatal(err)
		}
	}
	// Bounded: the deadlock ended only with the contexts.
	ctx, cancel := context.WithTimeout(alice, 20*time.Second)
	defer cancel()
	errs := make(chan error, n)
	var ready, start sync.WaitGroup
	ready.Add(n)
	start.Add(1)
	for i := range n {
		go func() {
			ready.Done()
			start.Wait()
			_, err := m.Start(ctx, fmt.Sprint("s", i))
			errs <- err
		}()
	}
	ready.Wait()
	locker.gatherSandboxLocks(n)
	start.Done()
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("start: %v", err)
		}
	}
	for i := range n {
		sb, err := m.Get(alice, fmt.Sprint("s", i))
		if err != nil {
			t.Fatal(err)
		}
		if sb.State != sandbox.StateRunning {
			t.Errorf("s%d is %s after the starts, want running", i, sb.State)
		}
	}
}
