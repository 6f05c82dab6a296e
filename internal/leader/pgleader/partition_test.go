package pgleader_test

import (
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/leader/pgleader"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
)

// blackhole forwards TCP connections to a server until cut, after which it drops every
// byte both ways and closes nothing, as a network partition does.
type blackhole struct {
	ln    net.Listener
	cut   atomic.Bool
	mu    sync.Mutex
	conns []net.Conn // closed by the test's cleanup
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, c, s)
			b.mu.Unlock()
			go b.pipe(c, s)
			go b.pipe(s, c)
		}
	}()
	return b
}

func (b *blackhole) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !b.cut.Load() {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestSilentLeader cuts the leader off the network without closing anything: the leader
// steps down when its pings go unanswered, and only after that, once the server has ended
// its idle session (idle_session_timeout) and so freed the lock, does the other replica lead.
func TestSilentLeader(t *testing.T) {
	db := pgtest.Start(t).NewSchema(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	hole := newBlackhole(t, u.Host)
	viaHole := *u
	viaHole.Host = hole.ln.Addr().String()

	key := rand.Int64()
	opts := pgleader.Options{Key: key, Retry: 50 * time.Millisecond, Check: time.Second, Lease: 5 * time.Second}
	opts.Name = "a " + t.Name()
	a := startWith(t, viaHole.String(), opts)
	waitFor(t, "a leads", 10*time.Second, a.e.IsLeader)
	opts.Name = "b " + t.Name()
	b := startWith(t, db, opts)
	at := b.e.Campaigns()
	waitFor(t, "b campaigns", 10*time.Second, func() bool { return b.e.Campaigns() >= at+2 })

	hole.cut.Store(true)
	cut := time.Now()
	select {
	case <-a.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the cut-off leader did not step down")
	}
	steppedDown := time.Since(cut)
	if b.e.IsLeader() {
		t.Fatalf("b led before a stepped down (%s after the cut)", steppedDown)
	}
	waitFor(t, "b leads", 20*time.Second, b.e.IsLeader)
	t.Logf("after the cut: a stepped down in %s, b led in %s", steppedDown.Round(time.Millisecond), time.Since(cut).Round(time.Millisecond))
}
