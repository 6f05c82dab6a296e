// Package logring is the sandbox's log as its guest keeps it: the output of the sandbox's own
// processes (the start command) as lines, in a ring bounded in bytes and lines, that readers
// tail and follow.
package logring

import (
	"sync"
	"time"
)

// Defaults of a ring: what the guest keeps of a sandbox's log.
const (
	DefaultMaxBytes = 1 << 20
	DefaultMaxLines = 10000
	// MaxLineBytes cuts a line that never ends: its first MaxLineBytes are a line of their own.
	MaxLineBytes = 16 << 10
)

// Line is one line of output, without its newline.
type Line struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // the process: tag[pid]
	Stream string    `json:"stream"` // stdout, stderr or pty
	Text   string    `json:"text"`
}

// Ring keeps the last lines written. Safe for concurrent use.
type Ring struct {
	maxBytes, maxLines int

	mu      sync.Mutex
	lines   []Line
	bytes   int
	next    uint64            // Seq of the next line
	partial map[string][]byte // source/stream → the unfinished line
	grew    chan struct{}     // closed (and replaced) when lines are added
}

// New returns a ring that keeps at most maxBytes of text and maxLines lines (0: the
// defaults).
func New(maxBytes, maxLines int) *Ring {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxLines <= 0 {
		maxLines = DefaultMaxLines
	}
	return &Ring{maxBytes: maxBytes, maxLines: maxLines, partial: map[string][]byte{}, grew: make(chan struct{})}
}

// Write adds output of source's stream: each complete line becomes a Line; the rest waits
// for its end (or End).
func (r *Ring) Write(source, stream string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := source + "\x00" + stream
	buf := append(r.partial[key], data...)
	added := false
	for {
		i := indexNL(buf)
		if i < 0 && len(buf) < MaxLineBytes {
			break
		}
		n, skip := i, 1
		if i < 0 || i > MaxLineBytes {
			n, skip = MaxLineBytes, 0
		}
		r.add(source, stream, string(trimCR(buf[:n])))
		buf, added = buf[n+skip:], true
	}
	if len(buf) == 0 {
		delete(r.partial, key)
	} else {
		r.partial[key] = append([]byte(nil), buf...)
	}
	if added {
		r.wake()
	}
}

// End adds the unfinished lines of source as they are: the process ended.
func (r *Ring) End(source string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	added := false
	for _, stream := range []string{"stdout", "stderr", "pty"} {
		key := source + "\x00" + stream
		if b, ok := r.partial[key]; ok {
			r.add(source, stream, string(trimCR(b)))
			delete(r.partial, key)
			added = true
		}
	}
	if added {
		r.wake()
	}
}

// add appends a line and drops the oldest past the bounds. Callers hold mu.
func (r *Ring) add(source, stream, text string) {
	r.lines = append(r.lines, Line{Seq: r.next, Time: time.Now().UTC(), Source: source, Stream: stream, Text: text})
	r.next++
	r.bytes += len(text)
	drop := 0
	for len(r.lines)-drop > r.maxLines || r.bytes > r.maxBytes && len(r.lines)-drop > 1 {
		r.bytes -= len(r.lines[drop].Text)
		drop++
	}
	if drop > 0 {
		// Copy rather than reslice, so the array does not grow without bound.
		r.lines = append(make([]Line, 0, len(r.lines)-drop+64), r.lines[drop:]...)
	}
}

func (r *Ring) wake() {
	close(r.grew)
	r.grew = make(chan struct{})
}

// Tail returns the last n lines (all when n <= 0), the Seq that follows them, and a channel
// closed when lines are added after them.
func (r *Ring) Tail(n int) ([]Line, uint64, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from := 0
	if n > 0 && len(r.lines) > n {
		from = len(r.lines) - n
	}
	return append([]Line(nil), r.lines[from:]...), r.next, r.grew
}

// Since returns the lines from seq on (those still kept), the Seq that follows them, and a
// channel closed when lines are added after them.
func (r *Ring) Since(seq uint64) ([]Line, uint64, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Line
	if len(r.lines) > 0 {
		first := r.lines[0].Seq
		from := 0
		if seq > first {
			from = int(min(seq-first, uint64(len(r.lines))))
		}
		out = append(out, r.lines[from:]...)
	}
	return out, r.next, r.grew
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
