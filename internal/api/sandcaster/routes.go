// Package sandcaster is Sandcaster's surface: POST /query runs an LLM agent whose loop lives
// in the server and whose tools run in a Paddock sandbox, streamed as Sandcaster's
// server-sent events; GET /runs lists the caller's runs. Errors are upstream's shape
// {"error": ..., "details": [{"path": [field], "message": ...}]}.
package sandcaster

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/template"
)

// Paths of the surface (the server's error writer answers them in this surface's shape).
const (
	QueryPath = "/query"
	RunsPath  = "/runs"
)

// Providers are where the models are and the server's keys for them (from
// ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OPENAI_API_KEY, OPENAI_BASE_URL, OPENROUTER_API_KEY,
// OPENROUTER_BASE_URL). A request's apiKeys replace the keys for its run.
type Providers struct {
	AnthropicKey, AnthropicBaseURL   string
	OpenAIKey, OpenAIBaseURL         string
	OpenRouterKey, OpenRouterBaseURL string
	// Retries is how often a refused request (429, 5xx, overloaded) is retried (default 2).
	Retries int
}

// Options are what the surface needs beyond the manager.
type Options struct {
	Providers    Providers
	Templates    *template.Store // sandboxProvider names one (default: base)
	Audit        *audit.Recorder // every tool call is an audit event
	MaxBodyBytes int64           // the query body (default 16 MiB: files may be 10 MB)
	// Workdir is the agent's workspace in the sandbox (default /home/user); uploaded files
	// land there and commands run there.
	Workdir string
	// Config is sandcaster.json (nil = none): query defaults and model tables.
	Config *Config
	Log    *slog.Logger
}

// API serves the surface. Safe for concurrent use.
type API struct {
	m       *manager.Manager
	opts    Options
	log     *slog.Logger
	runs    *runLog
	catalog agent.Catalog // the model aliases and prices, the config's over the defaults
}

// New returns the surface.
func New(m *manager.Manager, opts Options) *API {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	if opts.Workdir == "" {
		opts.Workdir = "/home/user"
	}
	if opts.Providers.Retries == 0 {
		opts.Providers.Retries = 2
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &API{m: m, opts: opts, log: opts.Log, runs: newRunLog(maxRuns), catalog: opts.Config.Catalog(agent.DefaultCatalog())}
}

// Routes lists every route of the surface.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"POST " + QueryPath: a.query,
		"GET " + RunsPath:   a.listRuns,
	}
}

// Register mounts every route on mux.
func (a *API) Register(mux *http.ServeMux) {
	for pattern, h := range a.Routes() {
		mux.Handle(pattern, a.wrap(h))
	}
}

// wrap answers a handler's error in the surface's shape; a field error carries details.
func (a *API) wrap(h httpx.HandlerFunc) http.Handler {
	ad := httpx.Adapter{Log: a.log, Write: WriteError}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		var fe *FieldError
		if errors.As(err, &fe) {
			httpx.WriteJSON(w, http.StatusBadRequest, errorBody{Error: "Validation failed: " + fe.Error(),
				Details: []errorDetail{{Path: []string{fe.Field}, Message: fe.Msg}}})
			return
		}
		ad.Wrap(func(http.ResponseWriter, *http.Request) error { return err }).ServeHTTP(w, r)
	})
}

// errorBody is the surface's error shape.
type errorBody struct {
	Error   string        `json:"error"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorDetail struct {
	Path    []string `json:"path"`
	Message string   `json:"message"`
}

// WriteError answers in the surface's error shape, {"error": msg}; the server's key check and
// route errors use it for the surface's paths.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	httpx.WriteJSON(w, status, errorBody{Error: msg})
}
