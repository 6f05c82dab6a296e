package webhook_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/webhook"
)

// e2bVerify is the check E2B's documentation gives receivers, written out independently of
// Sign: standard base64 of SHA-256(secret + payload), made URL-safe, padding trimmed.
func e2bVerify(secret, payload, sig string) bool {
	sum := sha256.Sum256([]byte(secret + payload))
	want := base64.StdEncoding.EncodeToString(sum[:])
	want = strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(want), "=")
	return want == sig
}

// receiver is a loopback webhook endpoint that checks each delivery's signature and keeps
// the events in the order they arrived.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []lifecycle.Wire
	bad    int
	// fail answers 500 to this many requests first.
	fail int
	seen chan struct{} // one send per accepted event
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	if !e2bVerify(rc.secret, string(body), r.Header.Get("e2b-signature")) || r.Header.Get("e2b-signature-version") != "v1" ||
		r.Header.Get("e2b-webhook-id") == "" || r.Header.Get("e2b-delivery-id") == "" {
		rc.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev lifecycle.Wire
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("payload: %v", err)
	}
	rc.got = append(rc.got, ev)
	rc.seen <- struct{}{}
}

func newReceiver(t *testing.T, secret string) (*receiver, string) {
	rc := &receiver{t: t, secret: secret, seen: make(chan struct{}, 1000)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv.URL + "/hook"
}

func newDispatcher(t *testing.T, cfg webhook.Config) (*webhook.Dispatcher, *memory.Lifecycle) {
	store := &memory.Lifecycle{}
	cfg.Store = store
	d := webhook.New(cfg)
	t.Cleanup(d.Close)
	return d, store
}

func register(t *testing.T, s lifecycle.Store, w lifecycle.Webhook) {
	t.Helper()
	if err := s.CreateWebhook(context.Background(), &w); err != nil {
		t.Fatal(err)
	}
}

func event(i int, sandbox, owner string) lifecycle.Event {
	return lifecycle.Event{ID: fmt.Sprintf("ev-%02d", i), Type: lifecycle.Types[i%len(lifecycle.Types)], SandboxID: sandbox,
		Owner: owner, Template: "base", Time: time.Unix(int64(1700000000+i), 0)}
}

func wait(t *testing.T, ch <-chan struct{}, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for range n {
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("fewer than %d deliveries arrived", n)
		}
	}
}

// TestSignedAndOrdered: a receiver gets every event its owner's webhook subscribed to,
// signed as E2B signs them and in the order they happened; other owners' events, unwanted
// types and disabled webhooks get nothing.
func TestSignedAndOrdered(t *testing.T) {
	d, store := newDispatcher(t, webhook.Config{})
	rc, url := newReceiver(t, "s3cr3t")
	other, otherURL := newReceiver(t, "x")
	register(t, store, lifecycle.Webhook{ID: "w1", Owner: "alice", URL: url, Enabled: true, Secret: "s3cr3t", Events: lifecycle.Types})
	register(t, store, lifecycle.Webhook{ID: "w2", Owner: "alice", URL: otherURL, Enabled: false, Secret: "x", Events: lifecycle.Types})
	register(t, store, lifecycle.Webhook{ID: "w3", Owner: "bob", URL: otherURL, Enabled: true, Secret: "x", Events: []string{lifecycle.Killed}})
	const n = 30
	for i := range n {
		d.Publish(context.Background(), event(i, fmt.Sprintf("i%d", i%3), "alice"))
	}
	wait(t, rc.seen, n)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, ev := range rc.got {
		if want := fmt.Sprintf("ev-%02d", i); ev.ID != want || ev.Version != "v1" || ev.TeamID != "alice" || ev.TemplateID != "base" {
			t.Fatalf("delivery %d: %+v, want event %s", i, ev, want)
		}
	}
	if rc.bad != 0 {
		t.Errorf("%d deliveries failed the signature check", rc.bad)
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	if len(other.got) != 0 {
		t.Errorf("a disabled webhook or another owner's got %d events", len(other.got))
	}
	evs, _ := store.ListLifecycleEvents(context.Background(), lifecycle.Filter{Owner: "alice", Limit: 100})
	if len(evs) != n {
		t.Errorf("store kept %d events, want %d", len(evs), n)
	}
}

// TestRetriesKeepOrder: failed attempts are retried, and the events behind wait for them.
func TestRetriesKeepOrder(t *testing.T) {
	d, store := newDispatcher(t, webhook.Config{Backoff: time.Millisecond})
	rc, url := newReceiver(t, "k")
	rc.fail = 3
	register(t, store, lifecycle.Webhook{ID: "w", Owner: "alice", URL: url, Enabled: true, Secret: "k", Events: lifecycle.Types})
	for i := range 5 {
		d.Publish(context.Background(), event(i, "i1", "alice"))
	}
	wait(t, rc.seen, 5)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, ev := range rc.got {
		if ev.ID != fmt.Sprintf("ev-%02d", i) {
			t.Fatalf("delivery %d is %s", i, ev.ID)
		}
	}
	// The receiver records an event before its answer reaches the dispatcher.
	waitUntil(t, "5 deliveries counted", func() bool { return d.Delivered() == 5 })
	if got := d.Dropped(); len(got) != 0 {
		t.Errorf("dropped %v", got)
	}
}

// TestDownReceiver: a receiver nobody listens on costs Publish nothing; each event is tried
// Attempts times and then counted as undeliverable.
func TestDownReceiver(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/hook"
	l.Close() // a closed port: connections are refused
	d, store := newDispatcher(t, webhook.Config{Attempts: 2, Backoff: time.Millisecond})
	register(t, store, lifecycle.Webhook{ID: "w", Owner: "alice", URL: url, Enabled: true, Secret: "k", Events: lifecycle.Types})
	for i := range 3 {
		d.Publish(context.Background(), event(i, "i1", "alice"))
	}
	waitUntil(t, "3 events dropped as undeliverable", func() bool { return d.Dropped()[webhook.DropUndeliverable] == 3 })
}

// waitUntil polls cond until it holds, failing after 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlowReceiver: Publish returns while the receiver still holds the first delivery; once
// the bounded queue is full, further events are dropped and counted, never waited for.
func TestSlowReceiver(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	d, store := newDispatcher(t, webhook.Config{QueueSize: 2})
	register(t, store, lifecycle.Webhook{ID: "w", Owner: "alice", URL: srv.URL, Enabled: true, Secret: "k", Events: lifecycle.Types})
	d.Publish(context.Background(), event(0, "i1", "alice"))
	<-arrived // the worker is now stuck in the receiver
	// Each Publish returns with the receiver still holding the first delivery (release is
	// closed only at cleanup): a Publish that waited for it would hang here.
	for i := 1; i <= 5; i++ {
		d.Publish(context.Background(), event(i, "i1", "alice"))
	}
	if got := d.Dropped()[webhook.DropQueueFull]; got != 3 {
		t.Errorf("dropped %d as queue_full, want 3 (5 events, room for 2)", got)
	}
}

func TestSignMatchesE2B(t *testing.T) {
	body := []byte(`{"version":"v1","id":"x","type":"sandbox.lifecycle.created"}`)
	for _, secret := range []string{"", "secret-for-event-signature-verification", "ü+/="} {
		if sig := webhook.Sign(secret, body); !e2bVerify(secret, string(body), sig) {
			t.Errorf("secret %q: signature %q does not verify", secret, sig)
		}
	}
}
