// Package webhook delivers sandbox lifecycle events to the webhooks users register, in E2B's
// format: a POST of the event's JSON signed in the e2b-signature header, retried with
// backoff, one ordered queue per webhook, never blocking the operation that caused it.
package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/lifecycle"
)

// Headers of a delivery, as E2B sends them.
const (
	HeaderSignature        = "e2b-signature"
	HeaderSignatureVersion = "e2b-signature-version"
	HeaderWebhookID        = "e2b-webhook-id"
	HeaderDeliveryID       = "e2b-delivery-id"
)

// Reasons an event is dropped instead of delivered, as counted by Dropped.
const (
	DropQueueFull     = "queue_full"    // the webhook's queue was full
	DropUndeliverable = "undeliverable" // every attempt failed
	DropShutdown      = "shutdown"      // the server stopped with it still queued
)

// Sign is E2B's signature of a delivery: SHA-256 of the secret followed by the raw body,
// in unpadded URL-safe base64.
func Sign(secret string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(body)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Config configures a Dispatcher. Zero fields take the documented defaults.
type Config struct {
	// Store keeps the events (for the events API) and the webhooks.
	Store lifecycle.Store
	Log   *slog.Logger
	// Client makes the deliveries (default: 10 s timeout, no redirects followed).
	Client *http.Client
	// QueueSize bounds each webhook's queue of undelivered events (default 256).
	QueueSize int
	// Attempts bounds the tries of one delivery (default 5).
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next one up to
	// MaxBackoff (defaults 500 ms and 30 s).
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// Dispatcher stores every event it is given and queues it for the webhooks that want it.
// Safe for concurrent use.
type Dispatcher struct {
	cfg Config
	// ctx ends at Close, which stops every queue's worker goroutine (owned here) and waits.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	queues    map[string]*queue // webhook ID → its queue
	dropped   map[string]int64  // reason → count
	delivered int64
}

var _ lifecycle.Publisher = (*Dispatcher)(nil)

// New returns a dispatcher; Close stops it.
func New(cfg Config) *Dispatcher {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{cfg: cfg, ctx: ctx, cancel: cancel, queues: map[string]*queue{}, dropped: map[string]int64{}}
}

// Publish implements lifecycle.Publisher: it appends ev to the store (so the events API has
// it at once) and queues it for each enabled webhook of the sandbox's owner (and each
// registered without authentication) that wants its type. It never waits for a delivery.
func (d *Dispatcher) Publish(ctx context.Context, ev lifecycle.Event) {
	if err := d.cfg.Store.AppendLifecycleEvent(ctx, &ev); err != nil {
		d.cfg.Log.Error("lifecycle event: store", "sandbox", ev.SandboxID, "event", ev.Type, "err", err)
	}
	hooks, err := d.cfg.Store.ListWebhooks(ctx, ev.Owner, false)
	if err == nil && ev.Owner != "" {
		var anon []*lifecycle.Webhook
		anon, err = d.cfg.Store.ListWebhooks(ctx, "", false)
		hooks = append(hooks, anon...)
	}
	if err != nil {
		d.cfg.Log.Error("lifecycle event: list webhooks", "sandbox", ev.SandboxID, "event", ev.Type, "err", err)
		return
	}
	for _, w := range hooks {
		if w.Wants(ev.Type) {
			d.enqueue(w, ev)
		}
	}
}

// Forget drops a webhook's queue (after it was deleted): what it still held is not sent.
func (d *Dispatcher) Forget(webhookID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q, ok := d.queues[webhookID]; ok {
		q.cancel()
		delete(d.queues, webhookID)
	}
}

// Dropped reports how many events were dropped, by reason.
func (d *Dispatcher) Dropped() map[string]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int64, len(d.dropped))
	for k, v := range d.dropped {
		out[k] = v
	}
	return out
}

// Delivered reports how many events receivers accepted.
func (d *Dispatcher) Delivered() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delivered
}

// Close stops every queue and waits for the deliveries under way to end; events still
// queued are dropped (counted as shutdown).
func (d *Dispatcher) Close() {
	d.cancel()
	d.wg.Wait()
}

func (d *Dispatcher) drop(w *lifecycle.Webhook, ev lifecycle.Event, reason string) {
	d.mu.Lock()
	d.dropped[reason]++
	d.mu.Unlock()
	d.cfg.Log.Warn("webhook event dropped", "webhook", w.ID, "sandbox", ev.SandboxID, "event", ev.Type,
		"event_id", ev.ID, "reason", reason)
}
