// Package lock serialises work on a key (a sandbox's lifecycle, a user's quota check) among
// the goroutines of one replica, and, with a shared implementation (pglock), among replicas.
package lock

import (
	"context"
	"fmt"
	"sync"
)

// Locker grants exclusive holds on string keys. Safe for concurrent use.
type Locker interface {
	// Lock blocks until the caller holds key, or ctx ends (the error then wraps ctx.Err(),
	// and nothing is held). The caller must call unlock exactly once; a later call is a
	// no-op. Holds are not reentrant: locking a key the caller holds waits forever (or until
	// ctx ends). Other errors (a database that cannot be reached) mean nothing is held.
	Lock(ctx context.Context, key string) (unlock func(), err error)
	// TryLock takes key if nobody holds it, without waiting: ok is false when it is held.
	// On ok, the caller must call unlock as for Lock.
	TryLock(ctx context.Context, key string) (unlock func(), ok bool, err error)
}

// Local is a Locker for the goroutines of one process. The zero value is ready; keys
// nobody holds or waits for take no memory.
type Local struct {
	mu   sync.Mutex
	keys map[string]*entry
}

var _ Locker = (*Local)(nil)

// entry is one key's mutex: a channel of one slot, so that waiting can end with ctx.
type entry struct {
	held chan struct{}
	refs int // holders and waiters; the entry goes when it drops to 0
}

// Lock implements Locker.
func (l *Local) Lock(ctx context.Context, key string) (func(), error) {
	e := l.ref(key)
	select {
	case e.held <- struct{}{}:
	case <-ctx.Done():
		l.unref(key, e)
		return nil, fmt.Errorf("wait for the lock on %s: %w", key, ctx.Err())
	}
	return l.unlocker(key, e), nil
}

// TryLock implements Locker.
func (l *Local) TryLock(_ context.Context, key string) (func(), bool, error) {
	e := l.ref(key)
	select {
	case e.held <- struct{}{}:
		return l.unlocker(key, e), true, nil
	default:
		l.unref(key, e)
		return nil, false, nil
	}
}

func (l *Local) unlocker(key string, e *entry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			<-e.held
			l.unref(key, e)
		})
	}
}

func (l *Local) ref(key string) *entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*entry{}
	}
	e, ok := l.keys[key]
	if !ok {
		e = &entry{held: make(chan struct{}, 1)}
		l.keys[key] = e
	}
	e.refs++
	return e
}

func (l *Local) unref(key string, e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.keys, key)
	}
}

// Len is how many keys are held or waited for (for tests of the bookkeeping).
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
