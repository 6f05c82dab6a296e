// Package providertest has wire-exact doubles of the model providers for tests: loopback
// HTTP servers that speak Anthropic's Messages streaming and OpenAI's Chat Completions
// streaming byte for byte, answer scripted turns in order and keep the requests they got.
package providertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Call is a scripted tool call; Input is its JSON, streamed in at least two fragments.
type Call struct {
	ID, Name, Input string
}

// Turn is one scripted answer.
type Turn struct {
	Thinking string // Anthropic only: a thinking block before the text
	Text     string // streamed in at least two fragments
	Calls    []Call
	// Status, when set, refuses the request with this HTTP status and ErrorType/Message
	// instead (RetryAfter is sent as retry-after-ms).
	Status     int
	ErrorType  string
	Message    string
	RetryAfter string
	// StreamError, when set, breaks off the stream after the first text fragment with an
	// error event of this type (Anthropic) or an error chunk (OpenAI).
	StreamError string
	// Hold, when set, makes the double stop after the first text fragment and wait until the
	// client goes away, which it then reports on Gone.
	Hold                      bool
	InputTokens, OutputTokens int64
}

// Request is a request the double got, with when it arrived and when the double had
// written its whole answer (zero while it is being answered).
type Request struct {
	Header   http.Header
	Body     map[string]any
	At, Done time.Time
}

// double is what both doubles share: the script, the requests, the server.
type double struct {
	t     testing.TB
	srv   *httptest.Server
	mu    sync.Mutex
	turns []Turn
	reqs  []Request
	// Gone receives once for every held turn whose client went away.
	Gone chan struct{}
}

func newDouble(t testing.TB, turns []Turn, h func(w http.ResponseWriter, r *http.Request, turn Turn)) *double {
	d := &double{t: t, turns: turns, Gone: make(chan struct{}, 16)}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		d.mu.Lock()
		d.reqs = append(d.reqs, Request{Header: r.Header.Clone(), Body: body, At: at})
		i := len(d.reqs) - 1
		if len(d.turns) == 0 {
			d.mu.Unlock()
			t.Errorf("provider double: request %d beyond the script", len(d.reqs))
			http.Error(w, `{"error":{"message":"script exhausted"}}`, http.StatusInternalServerError)
			return
		}
		turn := d.turns[0]
		d.turns = d.turns[1:]
		d.mu.Unlock()
		h(w, r, turn)
		d.mu.Lock()
		d.reqs[i].Done = time.Now()
		d.mu.Unlock()
	}))
	t.Cleanup(d.srv.Close)
	return d
}

// URL is the double's base URL.
func (d *double) URL() string { return d.srv.URL }

// Requests returns the requests so far.
func (d *double) Requests() []Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Request(nil), d.reqs...)
}

// halves splits s in two non-empty fragments (one when s is shorter than 2).
func halves(s string) []string {
	if len(s) < 2 {
		return []string{s}
	}
	return []string{s[:len(s)/2], s[len(s)/2:]}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// hold waits until the client goes away, then reports it.
func (d *double) hold(r *http.Request) {
	<-r.Context().Done()
	d.Gone <- struct{}{}
}
