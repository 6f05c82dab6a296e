package leader_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/leader"
)

// switched is an elector the test elects and deposes.
type switched struct {
	win, lose chan struct{}
	leading   atomic.Bool
}

func (s *switched) IsLeader() bool { return s.leading.Load() }

func (s *switched) Run(ctx context.Context, onElected func(context.Context)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.win:
		}
		term, cancel := context.WithCancel(ctx)
		s.leading.Store(true)
		go func() {
			select {
			case <-s.lose:
			case <-term.Done():
			}
			s.leading.Store(false)
			cancel()
		}()
		onElected(term)
		cancel()
	}
}

// duty counts its runs under way and reports each start.
type duty struct {
	running atomic.Int32
	started chan struct{}
}

func newDuty() *duty { return &duty{started: make(chan struct{}, 4)} }

func (d *duty) run(ctx context.Context) {
	d.running.Add(1)
	d.started <- struct{}{}
	<-ctx.Done()
	d.running.Add(-1)
}

func (d *duty) waitStart(t *testing.T, what string) {
	t.Helper()
	select {
	case <-d.started:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start", what)
	}
}

// TestCampaign: duties run only during terms, each term anew; one added during a term
// starts at once; its stop ends it and waits; Stop ends the rest.
func TestCampaign(t *testing.T) {
	el := &switched{win: make(chan struct{}), lose: make(chan struct{})}
	c := leader.Start(el, slog.New(slog.DiscardHandler))
	a, b := newDuty(), newDuty()
	c.Do(a.run)
	if c.IsLeader() || a.running.Load() != 0 {
		t.Fatal("a duty runs before the replica leads")
	}
	el.win <- struct{}{}
	a.waitStart(t, "a, at election")
	stopB := c.Do(b.run)
	b.waitStart(t, "b, added during the term")

	el.lose <- struct{}{}
	el.win <- struct{}{} // Run takes it only once the last term's duties have returned
	a.waitStart(t, "a, in the second term")
	b.waitStart(t, "b, in the second term")

	stopB()
	if n := b.running.Load(); n != 0 {
		t.Errorf("b runs %d times after its stop returned", n)
	}
	c.Stop()
	if n := a.running.Load(); n != 0 {
		t.Errorf("a runs %d times after Stop returned", n)
	}
}

// TestAlways: a lone replica leads at once and for good.
func TestAlways(t *testing.T) {
	c := leader.Start(leader.Always{}, slog.New(slog.DiscardHandler))
	d := newDuty()
	c.Do(d.run)
	d.waitStart(t, "the duty")
	if !c.IsLeader() {
		t.Error("Always does not lead")
	}
	c.Stop()
	if d.running.Load() != 0 {
		t.Error("the duty outlived Stop")
	}
}
