package httpx

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// Limiter caps how many heavy requests (file transfers, buffered commands) run at once
// across the server. A request waits a little for a slot, then is refused with 503 and
// Retry-After. Safe for concurrent use.
type Limiter struct {
	slots    chan struct{}
	wait     atomic.Int64 // how long a request may wait for a slot, in ns (0 = not at all)
	inFlight atomic.Int64
	waiting  atomic.Int64
	refused  atomic.Int64
}

// retryAfter is what a refused request is told to wait, in seconds.
const retryAfter = 1

// NewLimiter returns a limiter of n concurrent requests that waits up to wait for a slot.
func NewLimiter(n int, wait time.Duration) *Limiter {
	l := &Limiter{slots: make(chan struct{}, max(n, 1))}
	l.SetWait(wait)
	return l
}

// SetWait changes how long a request may wait for a slot.
func (l *Limiter) SetWait(d time.Duration) { l.wait.Store(int64(d)) }

// Acquire takes a slot, waiting for one as long as the limiter allows, and returns the function that gives it back.
// When none frees up in time it returns an ErrUnavailable-class error.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.waiting.Add(1)
		err = l.await(ctx)
		l.waiting.Add(-1)
		if err != nil {
			return nil, err
		}
	}
	l.inFlight.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			l.inFlight.Add(-1)
			<-l.slots
		}
	}, nil
}

func (l *Limiter) await(ctx context.Context) error {
	t := time.NewTimer(time.Duration(l.wait.Load()))
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errdefs.Unavailable("the request ended while it waited for a slot: %v", ctx.Err())
	case <-t.C:
	}
	l.refused.Add(1)
	return errdefs.Unavailable("the server is busy: %d file transfers and buffered commands are running, the most it runs at once; retry in %d s", cap(l.slots), retryAfter)
}

// Wrap runs h only with a slot; a refused request gets Retry-After and the error, which the
// surface's adapter writes in its own shape.
func (l *Limiter) Wrap(h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		release, err := l.Acquire(r.Context())
		if err != nil {
			SetRetryAfter(w)
			return err
		}
		defer release()
		return h(w, r)
	}
}

// SetRetryAfter tells a refused client when to try again.
func SetRetryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
}

// Capacity is the number of slots.
func (l *Limiter) Capacity() int { return cap(l.slots) }

// InFlight is the number of requests holding a slot.
func (l *Limiter) InFlight() int64 { return l.inFlight.Load() }

// Waiting is the number of requests waiting for a slot.
func (l *Limiter) Waiting() int64 { return l.waiting.Load() }

// Refused is how many requests were refused since the start.
func (l *Limiter) Refused() int64 { return l.refused.Load() }
