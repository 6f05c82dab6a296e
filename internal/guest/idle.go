package guest

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// idleTrim returns the guest's free heap to the OS once requests stop, so that an idle
// sandbox costs little memory while a busy one never pays for extra collections.
type idleTrim struct {
	last  atomic.Int64 // unix nanos of the last request
	dirty atomic.Bool  // a request arrived since the last trim
}

// wrap records activity around next.
func (t *idleTrim) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.last.Store(time.Now().UnixNano())
		t.dirty.Store(true)
		next.ServeHTTP(w, r)
		t.last.Store(time.Now().UnixNano())
	})
}

// run trims after quiet periods until ctx ends.
func (t *idleTrim) run(ctx context.Context, quiet time.Duration) {
	tick := time.NewTicker(quiet)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if t.dirty.Load() && time.Since(time.Unix(0, t.last.Load())) >= quiet {
				t.dirty.Store(false)
				debug.FreeOSMemory()
			}
		}
	}
}
