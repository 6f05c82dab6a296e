// Package agentsandbox is Agent-Sandbox's native surface under /api/v1 (and its /healthz): the
// routes its UI, CLI and users call, answered in its envelope {"code":"0","data":...} and its
// error shape {"code","message"}, translated into manager calls.
package agentsandbox

import (
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/template"
)

// Prefix is where the surface lives.
const Prefix = "/api/v1"

// Options are what the surface needs beyond the manager.
type Options struct {
	Events       audit.Store     // the audit trail (/events)
	Templates    *template.Store // Paddock's templates (/config, /pool, create)
	MaxBodyBytes int64           // JSON bodies (default 1 MiB)
	MaxFileBytes int64           // one uploaded file (default 64 MiB)
	Version      string          // what /healthz reports
	// Heavy caps file transfers and buffered commands with the server's other heavy
	// requests (nil = no cap).
	Heavy *httpx.Limiter
	Log   *slog.Logger
}

// API serves the surface. Safe for concurrent use.
type API struct {
	m    *manager.Manager
	opts Options
	log  *slog.Logger
}

// New returns the surface.
func New(m *manager.Manager, opts Options) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 64 << 20
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &API{m: m, opts: opts, log: opts.Log}
}

// Routes lists every route of the surface.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	p := Prefix
	return map[string]httpx.HandlerFunc{
		"GET /healthz":                                a.healthz,
		"POST " + p + "/sandbox":                      a.create,
		"GET " + p + "/sandbox":                       a.list,
		"GET " + p + "/sandbox/{name}":                a.get,
		"DELETE " + p + "/sandbox/{name}":             a.delete,
		"POST " + p + "/sandbox/pause/{name}":         a.pause,
		"POST " + p + "/sandbox/resume/{name}":        a.resume,
		"GET " + p + "/sandbox/metrics":               a.metrics,
		"POST " + p + "/sandbox/metrics":              a.metrics,
		"POST " + p + "/terminal/sandbox/{name}":      a.terminal,
		"GET " + p + "/terminal/sandbox/{name}/ws":    a.terminalWS,
		"GET " + p + "/sandbox/files/{name}":          a.listFiles,
		"POST " + p + "/sandbox/files/{name}/upload":  a.upload,
		"DELETE " + p + "/sandbox/files/{name}":       a.deleteFile,
		"GET " + p + "/sandbox/files/{name}/download": a.download,
		"GET " + p + "/logs/sandbox/{name}":           a.logs,
		"GET " + p + "/events":                        a.events,
		"GET " + p + "/config/templates":              a.getTemplates,
		"POST " + p + "/config/templates":             admin(a.saveTemplates, "change templates"),
		"GET " + p + "/config/sandbox-template":       a.getSandboxTemplate,
		"POST " + p + "/config/sandbox-template":      admin(a.saveSandboxTemplate, "change templates"),
		"GET " + p + "/pool":                          a.listPools,
		"GET " + p + "/pool/sandbox/{name}":           a.poolSandboxes,
		"DELETE " + p + "/pool/{name}":                admin(a.deletePool, "change warm pools"),
	}
}

// admin refuses h to users before it reads anything (the manager and the template store
// refuse the change itself too): Agent-Sandbox's configuration is its system token's.
func admin(h httpx.HandlerFunc, what string) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := manager.RequireAdmin(r.Context(), what); err != nil {
			return err
		}
		return h(w, r)
	}
}

// heavyRoutes move files or buffer outputs: they run under Options.Heavy.
var heavyRoutes = map[string]bool{
	"POST " + Prefix + "/terminal/sandbox/{name}":      true,
	"POST " + Prefix + "/sandbox/files/{name}/upload":  true,
	"GET " + Prefix + "/sandbox/files/{name}/download": true,
}

// Register mounts every route on mux.
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: WriteError}
	for pattern, h := range a.Routes() {
		if heavyRoutes[pattern] && a.opts.Heavy != nil {
			h = a.opts.Heavy.Wrap(h)
		}
		mux.Handle(pattern, ad.Wrap(h))
	}
}

// answer is the envelope of every success.
type answer struct {
	Code string `json:"code"`
	Data any    `json:"data"`
}

// ok answers 200 with data in the envelope.
func ok(w http.ResponseWriter, data any) error {
	httpx.WriteJSON(w, http.StatusOK, answer{Code: "0", Data: data})
	return nil
}

// WriteError answers in the surface's error shape, {"code": status, "message": msg}; the
// server's key check and route errors use it for paths under Prefix.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	httpx.WriteJSON(w, status, map[string]any{"code": status, "message": msg})
}

// health is what /healthz answers (without the envelope, as Agent-Sandbox documents it).
type health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, health{Status: "ok", Version: a.opts.Version})
	return nil
}

// decode reads a strict JSON body (allowEmpty: an empty body is the zero value).
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	return httpx.Decode(w, r, v, a.opts.MaxBodyBytes, true, allowEmpty)
}
