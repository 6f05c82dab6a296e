package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/paddock/paddock/internal/lifecycle"
)

// delivery is one event for one webhook, with the webhook as it was when the event came.
type delivery struct {
	hook *lifecycle.Webhook
	ev   lifecycle.Event
}

// queue is one webhook's events in order, sent one at a time by its worker: a retry holds
// back the events behind it, so a receiver sees each sandbox's events in order.
type queue struct {
	ch     chan delivery
	ctx    context.Context // ends when the webhook is forgotten or the dispatcher closes
	cancel context.CancelFunc
}

// enqueue hands ev to w's queue, starting its worker on first use; a full queue drops it.
func (d *Dispatcher) enqueue(w *lifecycle.Webhook, ev lifecycle.Event) {
	d.mu.Lock()
	if d.ctx.Err() != nil {
		d.mu.Unlock()
		d.drop(w, ev, DropShutdown)
		return
	}
	q, ok := d.queues[w.ID]
	if !ok {
		ctx, cancel := context.WithCancel(d.ctx)
		q = &queue{ch: make(chan delivery, d.cfg.QueueSize), ctx: ctx, cancel: cancel}
		d.queues[w.ID] = q
		d.wg.Add(1)
		go d.work(q)
	}
	d.mu.Unlock()
	select {
	case q.ch <- delivery{hook: w, ev: ev}:
	default:
		d.drop(w, ev, DropQueueFull)
	}
}

// work sends q's deliveries until q ends.
func (d *Dispatcher) work(q *queue) {
	defer d.wg.Done()
	for {
		select {
		case <-q.ctx.Done():
			for {
				select {
				case dl := <-q.ch:
					d.drop(dl.hook, dl.ev, DropShutdown)
				default:
					return
				}
			}
		case dl := <-q.ch:
			d.deliver(q.ctx, dl)
		}
	}
}

// deliver tries one delivery up to Attempts times with doubling waits between.
func (d *Dispatcher) deliver(ctx context.Context, dl delivery) {
	body, err := json.Marshal(dl.ev.ToWire())
	if err != nil {
		d.drop(dl.hook, dl.ev, DropUndeliverable)
		return
	}
	wait := d.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := d.post(ctx, dl.hook, body)
		if err == nil {
			d.mu.Lock()
			d.delivered++
			d.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			d.drop(dl.hook, dl.ev, DropShutdown)
			return
		}
		d.cfg.Log.Info("webhook delivery failed", "webhook", dl.hook.ID, "event_id", dl.ev.ID, "attempt", attempt, "err", err)
		if attempt >= d.cfg.Attempts {
			d.drop(dl.hook, dl.ev, DropUndeliverable)
			return
		}
		select {
		case <-ctx.Done():
			d.drop(dl.hook, dl.ev, DropShutdown)
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, d.cfg.MaxBackoff)
	}
}

// post makes one attempt; any answer but 2xx is a failure.
func (d *Dispatcher) post(ctx context.Context, w *lifecycle.Webhook, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "paddock-webhooks")
	req.Header.Set(HeaderWebhookID, w.ID)
	req.Header.Set(HeaderDeliveryID, lifecycle.NewID())
	req.Header.Set(HeaderSignatureVersion, "v1")
	req.Header.Set(HeaderSignature, Sign(w.Secret, body))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
