package image

import (
	"context"
	"io"
	"sync"
	"time"
)

// Progress is one update of a pull: how far one layer's download has come.
type Progress struct {
	Ref    string `json:"ref"`
	Layer  string `json:"layer,omitempty"` // digest of the layer blob; "" for the first update of a pull
	Index  int    `json:"index"`           // 1-based position of the layer, lowest first
	Layers int    `json:"layers"`          // layers in the image
	// Current and Total are bytes of the layer blob (compressed, as it travels); Total is 0
	// when the registry did not say.
	Current int64 `json:"current"`
	Total   int64 `json:"total"`
	// Done is set on a layer's last update: unpacked, or already present (Cached).
	Done   bool `json:"done,omitempty"`
	Cached bool `json:"cached,omitempty"`
}

// ProgressFunc receives pull updates. It is called from the pulling goroutine and must
// return quickly; updates of one layer arrive in order.
type ProgressFunc func(Progress)

type progressKey struct{}

// WithProgress returns a context whose pulls (Resolve of an image that is not there yet)
// report to fn. Callers that join a pull already under way get its latest state first.
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressFrom(ctx context.Context) ProgressFunc {
	fn, _ := ctx.Value(progressKey{}).(ProgressFunc)
	return fn
}

// fanout delivers a pull's updates to every caller waiting for it.
type fanout struct {
	mu   sync.Mutex
	subs map[int]ProgressFunc
	next int
	last map[int]Progress // latest update by layer index, replayed to late subscribers
}

// subscribe adds fn (nil is a no-op) and returns its removal.
func (f *fanout) subscribe(fn ProgressFunc) func() {
	if fn == nil {
		return func() {}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs, f.last = map[int]ProgressFunc{}, map[int]Progress{}
	}
	id := f.next
	f.next++
	f.subs[id] = fn
	for i := 0; i <= len(f.last); i++ {
		if p, ok := f.last[i]; ok {
			fn(p)
		}
	}
	return func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
	}
}

func (f *fanout) report(p Progress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.subs, f.last = map[int]ProgressFunc{}, map[int]Progress{}
	}
	f.last[p.Index] = p
	for _, fn := range f.subs {
		fn(p)
	}
}

// countingReader reports bytes read through it, at most every reportEvery bytes or
// reportPeriod, whichever comes first.
type countingReader struct {
	r        io.Reader
	n        int64
	lastN    int64
	lastT    time.Time
	progress Progress
	report   func(Progress)
}

const (
	reportEvery  = 1 << 20
	reportPeriod = 200 * time.Millisecond
)

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n-c.lastN >= reportEvery || time.Since(c.lastT) >= reportPeriod {
		c.flush()
	}
	return n, err
}

func (c *countingReader) flush() {
	c.lastN, c.lastT = c.n, time.Now()
	p := c.progress
	p.Current = c.n
	c.report(p)
}
