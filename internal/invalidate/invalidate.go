// Package invalidate tells the caches of every replica that shares a store that a record
// changed, so that a key revoked or a sandbox deleted through one replica is not served from
// another's cache.
package invalidate

import "sync"

// All, as an ID, means that any record of the kind may have changed (a replica that lost
// its listener may have missed messages).
const All = "*"

// Kinds of records.
const (
	Sandbox  = "sandbox"  // a sandbox record changed (ID)
	Stopped  = "stopped"  // a sandbox stopped, failed or was deleted (ID): its guest is gone
	Accounts = "accounts" // users and keys (ID ignored: caches drop whole)
	Warm     = "warm"     // a unit was claimed from a shared warm pool (its key): the leader refills it
)

// Bus carries invalidations. Safe for concurrent use.
type Bus interface {
	// Publish tells every replica, this one included, that the record kind:id changed. It is
	// called after the change is committed and does not fail the change: a message that
	// cannot be sent is logged, and other replicas' caches fall back on their TTLs.
	Publish(kind, id string)
	// Subscribe calls fn with the ID of every change of kind published from now on, or All.
	// fn runs on the bus's goroutine: it must be quick and must not publish.
	Subscribe(kind string, fn func(id string))
}

// Local is the Bus of a replica alone on its store: it calls the subscribers in Publish.
type Local struct {
	subs Subscribers
}

var _ Bus = (*Local)(nil)

// Publish implements Bus.
func (l *Local) Publish(kind, id string) { l.subs.Deliver(kind, id) }

// Subscribe implements Bus.
func (l *Local) Subscribe(kind string, fn func(id string)) { l.subs.Add(kind, fn) }

// Subscribers is a set of callbacks by kind, for Bus implementations. The zero value is
// ready.
type Subscribers struct {
	mu     sync.RWMutex
	byKind map[string][]func(id string)
}

// Add registers fn for kind.
func (s *Subscribers) Add(kind string, fn func(id string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKind == nil {
		s.byKind = map[string][]func(string){}
	}
	s.byKind[kind] = append(s.byKind[kind], fn)
}

// Deliver calls kind's subscribers with id.
func (s *Subscribers) Deliver(kind, id string) {
	s.mu.RLock()
	fns := s.byKind[kind]
	s.mu.RUnlock()
	for _, fn := range fns {
		fn(id)
	}
}

// DeliverAll calls every subscriber with All.
func (s *Subscribers) DeliverAll() {
	s.mu.RLock()
	kinds := make([]string, 0, len(s.byKind))
	for k := range s.byKind {
		kinds = append(kinds, k)
	}
	s.mu.RUnlock()
	for _, k := range kinds {
		s.Deliver(k, All)
	}
}
