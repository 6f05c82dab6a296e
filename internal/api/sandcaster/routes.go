// Package sandcaster is Sandcaster's surface: POST /query runs an LLM agent whose loop lives
// in the server and whose tools run in a Paddock sandbox, streamed as Sandcaster's
// server-sent events; GET /runs lists the caller's runs. Errors are upstream's shape
// {"error": ..., "details": [{"path": [field], "message": ...}]}.
package sandcaster

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/store/memory"
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
	// Store keeps runs and sessions (default: in memory).
	Store agentrun.Store
	// SessionIdle is how long a session may sit idle before its sandbox is deleted
	// (default DefaultSessionIdle); a session's sessionConfig.idleTimeoutSecs overrides it.
	SessionIdle time.Duration
	// WebhookSecret verifies POST /webhooks/e2b; "" turns the route off (503).
	WebhookSecret string
	// PingInterval is how often GET /sessions/{id}/events sends a ping (default 15 s).
	PingInterval time.Duration
	// Config is sandcaster.json (nil = none): query defaults and model tables.
	Config *Config
	Log    *slog.Logger
}

// API serves the surface. Safe for concurrent use.
type API struct {
	m        *manager.Manager
	opts     Options
	log      *slog.Logger
	store    agentrun.Store
	live     liveRuns      // runs in progress in this server
	sessions sessionSet    // live sessions; Close ends them
	catalog  agent.Catalog // the model aliases and prices, the config's over the defaults
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
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 15 * time.Second
	}
	if opts.Store == nil {
		opts.Store = memory.NewAgents()
	}
	return &API{m: m, opts: opts, log: opts.Log, store: opts.Store, catalog: opts.Config.Catalog(agent.DefaultCatalog())}
}

// Recover marks what a previous server left unfinished: runs still running are errors
// ("server restarted"); live sessions end ("session ended: server restarted") and their
// sandboxes are deleted. Call it once, before serving.
func (a *API) Recover(ctx context.Context) error {
	return errors.Join(a.recoverRuns(ctx), a.recoverSessions(ctx))
}

// Routes lists every route of the surface.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"POST " + QueryPath:                       a.query,
		"GET " + RunsPath:                         a.listRuns,
		"GET " + RunsPath + "/{id}":               a.getRun,
		"POST " + SessionsPath:                    a.createSession,
		"GET " + SessionsPath:                     a.listSessions,
		"GET " + SessionsPath + "/{id}":           a.getSession,
		"DELETE " + SessionsPath + "/{id}":        a.deleteSession,
		"POST " + SessionsPath + "/{id}/messages": a.sendMessage,
		"GET " + SessionsPath + "/{id}/events":    a.sessionEvents,
		"POST " + WebhookPath:                     a.webhook,
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
		var se *sessionError
		if errors.As(err, &se) {
			httpx.WriteJSON(w, sessionStatus[se.code], sessionErrorBody{Error: se.msg, Code: se.code})
			return
		}
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

// sessionErrorBody is upstream's session error shape.
type sessionErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
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
