package native

import (
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// Options are the surface's limits.
type Options struct {
	MaxBodyBytes int64 // JSON bodies other than file uploads (default 1 MiB)
	MaxFileBytes int64 // file content through the files API (default 64 MiB)
	BatchWorkers int   // parallel runs of one batch (default 8)
	MaxBatch     int   // commands in one batch (default 100)
	Version      string
	// Templates are the sandbox templates (nil = none: /templates is empty and read-only).
	Templates *template.Store
	// Heavy caps the heavy routes (file transfers, buffered commands) with the server's
	// other heavy requests (nil = no cap).
	Heavy *httpx.Limiter
	// Downloads signs download URLs (nil = POST /sandboxes/{name}/download-url is 503).
	Downloads Downloads
}

// API serves the native surface. Safe for concurrent use.
type API struct {
	m     *manager.Manager
	audit audit.Store
	runs  sandbox.RunStore
	opts  Options
	// templates is opts.Templates.
	templates *template.Store
	log       *slog.Logger
}

// New returns the surface.
func New(m *manager.Manager, events audit.Store, runs sandbox.RunStore, opts Options, log *slog.Logger) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 64 << 20
	}
	if opts.BatchWorkers <= 0 {
		opts.BatchWorkers = 8
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 100
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{m: m, audit: events, runs: runs, opts: opts, log: log, templates: opts.Templates}
}

// envelope is every answer of this surface.
type envelope = apitype.Envelope[any]

func ok(w http.ResponseWriter, status int, data any) error {
	httpx.WriteJSON(w, status, envelope{Success: true, Data: data})
	return nil
}

// writeError is the surface's error shape.
func writeError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	httpx.WriteJSON(w, status, envelope{Success: false, Error: msg})
}

// WriteError lets middleware in front of this surface (auth) answer in its shape.
func WriteError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeError(w, r, status, msg)
}

// decode reads a strict JSON body.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	return httpx.Decode(w, r, v, a.opts.MaxBodyBytes, true, allowEmpty)
}

// owner is who what a request makes (sandboxes, runs) belongs to: the caller's user ID, or
// without authentication the actor.
func owner(r *http.Request) string {
	return manager.OwnerOf(r.Context(), audit.OriginFrom(r.Context()).Actor)
}

func (a *API) health(w http.ResponseWriter, _ *http.Request) error {
	// status and version also at the top level, for probes that do not unwrap envelopes.
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"data":    apitype.Health{Status: "ok", Version: a.opts.Version},
		"status":  "ok",
		"version": a.opts.Version,
	})
	return nil
}
