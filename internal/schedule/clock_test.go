package schedule_test

import (
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/schedule"
)

// fakeClock is a clock the test moves by hand. Timers fire when the clock reaches them
// (at once if created already due); each new timer's deadline is sent on created.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan time.Time
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	c     chan time.Time
	done  bool // fired or stopped
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, created: make(chan time.Time, 1000)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(at time.Time) schedule.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: at, c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.fireDue()
	c.created <- t.at
	return t
}

// Set moves the clock to now and fires the timers that are due.
func (c *fakeClock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	c.fireDue()
}

func (c *fakeClock) fireDue() {
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			t.c <- c.now
		}
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// waitTimer waits until the runner sets a timer for at: it has handled everything due before.
func (c *fakeClock) waitTimer(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(10 * time.Second) // only reached when the test fails
	for {
		select {
		case got := <-c.created:
			if got.Equal(at) {
				return
			}
		case <-deadline:
			t.Fatalf("no timer set for %v", at)
		}
	}
}
