package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/store/sqlite"
	"github.com/paddock/paddock/internal/webhook"
)

// BenchmarkPublish measures what a lifecycle event adds to the operation that causes it
// (under the sandbox's lock): the append to a sqlite store, the owner's webhooks read back,
// and the hand-off to one webhook's queue (delivery itself runs apart).
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "p.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	if err := store.CreateWebhook(ctx, &lifecycle.Webhook{ID: "w", Owner: "alice", URL: srv.URL, Enabled: true, Secret: "k", Events: lifecycle.Types}); err != nil {
		b.Fatal(err)
	}
	d := webhook.New(webhook.Config{Store: store, QueueSize: 1 << 20})
	defer d.Close()
	b.ResetTimer()
	for i := range b.N {
		d.Publish(ctx, event(i, "i1", "alice"))
	}
}
