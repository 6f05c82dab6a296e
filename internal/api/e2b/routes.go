// Package e2b is the E2B-compatible surface: the control plane under /e2b/v1 (what E2B's
// SDKs call with E2B_API_URL) and the data plane (E2B_SANDBOX_URL) that proxies SDK traffic
// to each sandbox's guest, which speaks envd and the code-interpreter protocol itself.
package e2b

import (
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/template"
	"github.com/paddock/paddock/internal/webhook"
)

// Prefix is where the control plane lives: E2B_API_URL=http://HOST:PORT/e2b/v1.
const Prefix = "/e2b/v1"

// clientID is the constant E2B returns; the Python SDK requires the field.
const clientID = "6532622b"

// API serves both planes. Safe for concurrent use.
type API struct {
	m         *manager.Manager
	templates *template.Store // what templateID resolves to
	log       *slog.Logger
	maxBody   int64
	// lifecycle keeps the events and webhooks; dispatcher forgets deleted webhooks' queues.
	lifecycle  lifecycle.Store
	dispatcher *webhook.Dispatcher
}

// New returns the surface.
func New(m *manager.Manager, templates *template.Store, maxBody int64, log *slog.Logger) *API {
	return &API{m: m, templates: templates, log: log, maxBody: maxBody}
}

// Routes lists the control plane's routes.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"POST " + Prefix + "/sandboxes":                 a.createV1,
		"POST " + Prefix + "/v2/sandboxes":              a.createV2,
		"GET " + Prefix + "/sandboxes":                  a.listV1,
		"GET " + Prefix + "/v2/sandboxes":               a.listV2,
		"GET " + Prefix + "/sandboxes/{id}":             a.detail,
		"DELETE " + Prefix + "/sandboxes/{id}":          a.kill,
		"POST " + Prefix + "/sandboxes/{id}/timeout":    a.setTimeout,
		"POST " + Prefix + "/sandboxes/{id}/connect":    a.connect,
		"POST " + Prefix + "/v2/sandboxes/{id}/connect": a.connect,
		"POST " + Prefix + "/sandboxes/{id}/pause":      a.pause,
		"POST " + Prefix + "/sandboxes/{id}/resume":     a.resume,
		"POST " + Prefix + "/sandboxes/{id}/refreshes":  a.refresh,
		"GET " + Prefix + "/sandboxes/{id}/metrics":     a.metrics,
		"PUT " + Prefix + "/sandboxes/{id}/network":     a.setNetwork,
		"GET " + Prefix + "/events/sandboxes":           a.teamEvents,
		"GET " + Prefix + "/events/sandboxes/{id}":      a.sandboxEvents,
		"POST " + Prefix + "/events/webhooks":           a.createWebhook,
		"GET " + Prefix + "/events/webhooks":            a.listWebhooks,
		"GET " + Prefix + "/events/webhooks/{id}":       a.getWebhook,
		"PATCH " + Prefix + "/events/webhooks/{id}":     a.updateWebhook,
		"DELETE " + Prefix + "/events/webhooks/{id}":    a.deleteWebhook,
	}
}

// Register mounts the control plane.
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: WriteError}
	for pattern, h := range a.Routes() {
		mux.Handle(pattern, ad.Wrap(h))
	}
	a.registerUnsupported(mux)
}

// WriteError answers in E2B's error shape, which the SDKs require: {"code", "message"}.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	httpx.WriteJSON(w, status, map[string]any{"code": status, "message": msg})
}
