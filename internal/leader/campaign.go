package leader

import (
	"context"
	"log/slog"
	"sync"
)

// Campaign runs one replica's elector and the duties the replica takes on while it leads:
// each duty runs during every term, with a context that ends with the term. A replica runs
// one Campaign, however many loops need leadership (one elector, one lock). Safe for
// concurrent use.
type Campaign struct {
	el   Elector
	stop context.CancelFunc // ends Run; called by Stop
	done chan struct{}      // closed when Run has returned

	mu     sync.Mutex
	term   context.Context // the current term's; nil while following
	duties map[*duty]struct{}
}

type duty struct {
	fn     func(ctx context.Context)
	cancel context.CancelFunc // ends its run in the current term
	done   chan struct{}      // closed when its last run returned; nil before the first
}

// Start starts campaigning with el; Stop ends it.
func Start(el Elector, log *slog.Logger) *Campaign {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Campaign{el: el, stop: cancel, done: make(chan struct{}), duties: map[*duty]struct{}{}}
	go func() {
		defer close(c.done)
		if err := el.Run(ctx, c.lead); err != nil {
			log.Error("leader election", "err", err)
		}
	}()
	return c
}

// IsLeader reports whether this replica leads now.
func (c *Campaign) IsLeader() bool { return c.el.IsLeader() }

// Do runs fn during every term from now on (at once if this replica leads). The returned
// stop removes it, ending its run under way and waiting for it to return.
func (c *Campaign) Do(fn func(ctx context.Context)) (stop func()) {
	d := &duty{fn: fn}
	c.mu.Lock()
	c.duties[d] = struct{}{}
	if c.term != nil {
		c.launch(d)
	}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.duties, d)
		cancel, done := d.cancel, d.done
		c.mu.Unlock()
		if done != nil {
			cancel()
			<-done
		}
	}
}

// launch starts d in the current term; c.mu is held.
func (c *Campaign) launch(d *duty) {
	ctx, cancel := context.WithCancel(c.term)
	done := make(chan struct{})
	d.cancel, d.done = cancel, done
	go func() {
		defer close(done)
		defer cancel()
		d.fn(ctx)
	}()
}

// lead is the elector's onElected: it runs every duty for the term and returns when they
// all have, after the term ends.
func (c *Campaign) lead(term context.Context) {
	c.mu.Lock()
	c.term = term
	for d := range c.duties {
		c.launch(d)
	}
	c.mu.Unlock()
	<-term.Done()
	c.mu.Lock()
	c.term = nil
	var running []chan struct{}
	for d := range c.duties {
		if d.done != nil {
			running = append(running, d.done)
		}
	}
	c.mu.Unlock()
	for _, done := range running {
		<-done
	}
}

// Stop ends the campaign (a leader gives up its leadership) and waits for the duties under
// way to return.
func (c *Campaign) Stop() {
	c.stop()
	<-c.done
}
