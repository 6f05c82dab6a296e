// Package leader decides which of several Paddock replicas runs the cluster's background
// work (the TTL reaper, the periodic reconcile pass, audit pruning), so that it runs once
// however many replicas share a database.
package leader

import "context"

// Elector campaigns for leadership on behalf of one replica. Safe for concurrent use.
type Elector interface {
	// Run campaigns until ctx ends and returns then. Each time this replica wins, Run calls
	// onElected with a context that is cancelled when leadership is lost (or ctx ends), and
	// waits for it to return before campaigning again. A replica stays leader after
	// onElected returns early, until its leadership is lost. Run is called once.
	Run(ctx context.Context, onElected func(ctx context.Context)) error
	// IsLeader reports whether this replica leads now. It turns false as soon as the
	// elector notices that leadership is lost, possibly before onElected has returned.
	IsLeader() bool
}

// Always is the elector of a replica that is alone by construction (an embedded SQLite
// database, an in-memory store): it leads from the start until Run's context ends.
type Always struct{}

var _ Elector = Always{}

// Run calls onElected once, and returns when ctx ends.
func (Always) Run(ctx context.Context, onElected func(ctx context.Context)) error {
	onElected(ctx)
	<-ctx.Done()
	return nil
}

// IsLeader is always true.
func (Always) IsLeader() bool { return true }
