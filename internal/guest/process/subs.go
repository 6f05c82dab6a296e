package process

import (
	"sync"
	"time"

	pb "github.com/paddock/paddock/proto/process"
)

// subBuffer is how many events may wait for one subscriber before its process waits too.
const subBuffer = 64

// defaultSubStall is how long a process waits for a subscriber whose queue is full before
// dropping it: a slow reader gets backpressure, one that stopped reading never blocks the
// process forever.
const defaultSubStall = 30 * time.Second

// sub is one stream (Start or Connect) receiving a process's events from when it joined.
type sub struct {
	ch      chan *pb.ProcessEvent // events in order; written by the process's goroutines
	gone    chan struct{}         // closed by the stream when it stops reading
	dropped chan struct{}         // closed by the process when the subscriber fell behind
	once    sync.Once
	stall   time.Duration // how long a full queue may hold the process up
}

func newSub(stall time.Duration) *sub {
	return &sub{ch: make(chan *pb.ProcessEvent, subBuffer), gone: make(chan struct{}), dropped: make(chan struct{}),
		stall: stall}
}

// deliver queues ev, waiting at most s.stall for room; false when s is gone or too slow.
func (s *sub) deliver(ev *pb.ProcessEvent) bool {
	select {
	case s.ch <- ev:
		return true
	case <-s.gone:
		return false
	default:
	}
	t := time.NewTimer(s.stall)
	defer t.Stop()
	select {
	case s.ch <- ev:
		return true
	case <-s.gone:
		return false
	case <-t.C:
		return false
	}
}

func (s *sub) drop() { s.once.Do(func() { close(s.dropped) }) }

// subscribe adds s; when the process already ended it returns the retained end event instead.
func (p *proc) subscribe(s *sub) *pb.ProcessEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.end != nil {
		return p.end
	}
	p.subs[s] = struct{}{}
	return nil
}

func (p *proc) unsubscribe(s *sub) {
	p.mu.Lock()
	delete(p.subs, s)
	p.mu.Unlock()
}

// broadcast hands ev to every subscriber and drops those that are gone or too slow.
func (p *proc) broadcast(ev *pb.ProcessEvent) {
	p.mu.Lock()
	subs := make([]*sub, 0, len(p.subs))
	for s := range p.subs {
		subs = append(subs, s)
	}
	p.mu.Unlock()
	for _, s := range subs {
		if !s.deliver(ev) {
			p.unsubscribe(s)
			s.drop()
		}
	}
}

// finish retains the end event, delivers it to the current subscribers and marks the process
// done. Retaining it first means a subscriber arriving now gets it either way.
func (p *proc) finish(end *pb.ProcessEvent) {
	p.mu.Lock()
	p.end = end
	subs := p.subs
	p.subs = map[*sub]struct{}{}
	p.mu.Unlock()
	for s := range subs {
		if !s.deliver(end) {
			s.drop()
		}
	}
	close(p.done)
}
