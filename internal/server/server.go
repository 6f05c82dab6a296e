// Package server assembles `paddock serve`: configuration, the engine, the HTTP surfaces,
// authentication, metrics and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/api/accounts"
	"github.com/paddock/paddock/internal/api/agentsandbox"
	"github.com/paddock/paddock/internal/api/e2b"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/api/kernelbox"
	"github.com/paddock/paddock/internal/api/mcp"
	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/api/openapi"
	"github.com/paddock/paddock/internal/api/ports"
	"github.com/paddock/paddock/internal/api/sandcaster"
	"github.com/paddock/paddock/internal/api/trinity"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/auth"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/session"
	"github.com/paddock/paddock/internal/template"
	"github.com/paddock/paddock/internal/ui"
)

// Server is a running Paddock service.
type Server struct {
	cfg        config.Config
	log        *slog.Logger
	eng        *engine.Engine
	handler    http.Handler
	metrics    *metrics
	operations []openapi.Operation // everything the document at /openapi.json describes
	patterns   []string            // every pattern registered on the mux (the OpenAPI test checks the document against them)
	api        *native.API
	sessions   *session.Registry
	sandcaster *sandcaster.API    // Close ends its live sessions
	templates  *template.Store    // closed before the engine
	closeOnce  sync.Once          // Close runs once, from Serve or from whoever gave up before it
	heavy      *httpx.Limiter     // caps file transfers and buffered commands, across surfaces
	scConfig   *sandcaster.Config // sandcaster.json; nil = none
	accounts   *account.Service
	trinityAPI *trinity.API // Trinity's agents, over the fleet
	agents     *agentParts  // the fleet and its schedules, credentials and SSH grants
	ssh        *sshGateway  // nil without Options.SSHListener
	// KeyPath is where a generated API key was stored ("" when configured or disabled).
	KeyPath    string
	KeyCreated bool
}

// heavyWait is how long a heavy request waits for a turn before it is refused with 503.
const heavyWait = 5 * time.Second

// Options are what New needs beyond the configuration.
type Options struct {
	Version     string
	GuestBinary string // static paddock binary for sandboxes (default: this executable)
	// Driver, when set, runs sandboxes instead of runc, and Images, when set, resolves
	// images instead of the image store: tests serve the whole HTTP layer on the fake
	// driver without root (see servertest).
	Driver sandbox.Driver
	Images sandbox.ImageResolver
	// SSHListener, when set, is served by the SSH gateway (bound by the caller, like the
	// HTTP listener); SSHAgents is the fleet it reaches agents through (nil: every login is
	// refused). See ssh.go.
	SSHListener net.Listener
	SSHAgents   SSHAgents
}

// New opens the engine and builds the handler. Whatever it opened is closed again when it
// fails; once it succeeds, Serve closes it.
func New(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		cfg.DataDir = engine.DefaultDataDir()
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics()}
	// A bad sandcaster.json fails start-up before anything is opened.
	if s.scConfig, err = sandcaster.FindConfig(cfg.SandcasterConfig); err != nil {
		return nil, err
	}
	// Warm pools come from the templates (set below), not from the engine's configuration.
	ecfg := engine.FromSettings(cfg)
	ecfg.Logger, ecfg.ReapInterval, ecfg.GuestBinary = log, cfg.ReapInterval, opts.GuestBinary
	ecfg.Driver, ecfg.Images = opts.Driver, opts.Images
	ecfg.WrapEvents = func(st audit.Store) audit.Store { return countingEvents{Store: st, m: s.metrics} }
	if s.eng, err = engine.Open(ctx, ecfg); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close(ctx)
		}
	}()
	s.metrics.watchManager(s.eng.Manager)
	s.metrics.watchWebhooks(s.eng.Webhooks)
	if err := s.openAccounts(ctx); err != nil {
		return nil, err
	}
	var authn auth.Authenticator // nil = no authentication
	if !cfg.NoAuth {
		authn = s.accounts
	}
	if s.templates, err = openTemplates(cfg, log); err != nil {
		return nil, err
	}
	s.followTemplates(ctx)
	if err := s.openTrinity(log); err != nil {
		return nil, err
	}
	if err := s.openSSH(opts); err != nil {
		return nil, err
	}
	s.connectSSH()
	s.handler = s.routes(ctx, opts, authn)
	return s, nil
}

// openAccounts builds the account service and, on first start, the admin who owns the
// server's key (configured or generated into the data dir).
func (s *Server) openAccounts(ctx context.Context) error {
	cfg := s.cfg
	secret, err := account.LoadSecret(cfg.DataDir, cfg.JWTSecret)
	if err != nil {
		return err
	}
	var previous []byte
	if cfg.JWTPreviousSecret != "" {
		previous = []byte(cfg.JWTPreviousSecret)
	}
	tokens, err := account.NewTokens(secret, previous, cfg.TokenExpiry)
	if err != nil {
		return err
	}
	s.accounts = account.New(s.eng.Accounts, account.Options{Tokens: tokens, Invalidate: s.eng.Invalidate, Locker: s.eng.Locker,
		Audit: &audit.Recorder{Store: s.eng.Events}, Log: s.log})
	var serverKeys []account.ServerKey
	if !cfg.NoAuth {
		var keys []string
		if keys, s.KeyPath, s.KeyCreated, err = auth.Load(cfg.DataDir, cfg.APIKey); err != nil {
			return err
		}
		name := "server key (" + auth.KeyFileName + " file)"
		if cfg.APIKey != "" {
			name = "server key (PADDOCK_API_KEY)"
		}
		for _, k := range keys {
			serverKeys = append(serverKeys, account.ServerKey{Key: k, Name: name})
		}
	}
	if _, err = s.accounts.Bootstrap(ctx, cfg.AdminEmail, serverKeys); err != nil {
		return err
	}
	return s.adoptUnowned(ctx)
}

// adoptUnowned gives the first admin the sandboxes whose owner is no user: those made before
// there were users, owned by the key that made them (issue 11's migration).
func (s *Server) adoptUnowned(ctx context.Context) error {
	first, err := s.eng.Accounts.GetSetting(ctx, account.SettingFirstAdmin)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	users, err := s.eng.Accounts.ListUsers(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, u := range users {
		known[u.ID] = true
	}
	n, err := s.eng.AdoptUnowned(ctx, first, func(owner string) bool { return known[owner] })
	if n > 0 {
		s.log.Info("sandboxes made before there were users now belong to the first admin", "count", n, "user", first)
	}
	return err
}

// routes mounts every surface and wraps them in the request ID, metrics, the E2B data plane,
// the port routes and the key check.
func (s *Server) routes(ctx context.Context, opts Options, authn auth.Authenticator) http.Handler {
	cfg, log, eng := s.cfg, s.log, s.eng
	mux := http.NewServeMux()
	s.heavy = httpx.NewLimiter(cfg.MaxHeavyRequests, heavyWait)
	s.metrics.watchLimiter(s.heavy)
	api := native.New(eng.Manager, eng.Events, eng.Runs, native.Options{MaxBodyBytes: cfg.MaxBodyBytes,
		MaxFileBytes: cfg.MaxFileBytes, BatchWorkers: cfg.BatchWorkers, Version: opts.Version, Templates: s.templates,
		Heavy: s.heavy, Downloads: s.accounts}, log)
	api.Register(mux)
	s.api = api
	s.sessions = session.New(eng.Manager, session.Options{OutputLimit: cfg.OutputLimit,
		IdleTimeout: cfg.SessionIdleTimeout, Audit: &audit.Recorder{Store: eng.Events}, Log: log})
	s.sessions.DropOrphans(ctx)
	kb := kernelbox.New(s.sessions, cfg.MaxBodyBytes, log)
	kb.Register(mux)
	e2bAPI := e2b.New(eng.Manager, s.templates, cfg.MaxBodyBytes, log).WithLifecycle(eng.Lifecycle, eng.Webhooks)
	e2bAPI.Register(mux)
	portsAPI := ports.New(eng.Manager, authn, log)
	portsAPI.Register(mux)
	accountsAPI := accounts.New(s.accounts, cfg.MaxBodyBytes, log).WithSandboxes(eng.Manager, eng.Accounts,
		&audit.Recorder{Store: eng.Events})
	accountsAPI.Register(mux)
	asAPI := agentsandbox.New(eng.Manager, agentsandbox.Options{Events: eng.Events, Templates: s.templates,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxFileBytes: cfg.MaxFileBytes, Version: opts.Version, Heavy: s.heavy, Log: log})
	asAPI.Register(mux)
	mcpAPI := mcp.New(eng.Manager, mcp.Options{Templates: s.templates, Sessions: s.sessions, Version: opts.Version,
		NoAuth: authn == nil, Log: log})
	mcpAPI.Register(mux)
	scAPI := sandcaster.New(eng.Manager, sandcaster.Options{Providers: sandcasterProviders(), Templates: s.templates,
		Audit: &audit.Recorder{Store: eng.Events}, Workdir: os.Getenv("PADDOCK_SANDCASTER_WORKDIR"), Store: eng.Agents, SessionIdle: cfg.SandcasterSessionIdle, WebhookSecret: cfg.E2BWebhookSecret,
		Config: s.scConfig, Log: log})
	if err := scAPI.Recover(ctx); err != nil {
		log.Error("sandcaster: recover runs and sessions", "err", err)
	}
	scAPI.Register(mux)
	s.sandcaster = scAPI
	trinityAPI := s.trinityAPI
	trinityAPI.Register(mux)
	s.operations = append(append(append(api.Operations(), kb.Operations()...), e2bAPI.Operations()...), serverOperations...)
	s.operations = append(append(append(s.operations, portsAPI.Operations()...), accountsAPI.Operations()...), asAPI.Operations()...)
	s.operations = append(append(append(s.operations, mcpAPI.Operations()...), scAPI.Operations()...), trinityAPI.Operations()...)
	s.patterns = append(s.patterns, mcp.Patterns...)
	for _, surface := range []routeLister{api, kb, e2bAPI, portsAPI, accountsAPI, asAPI, scAPI, trinityAPI} {
		for pattern := range surface.Routes() {
			s.patterns = append(s.patterns, pattern)
		}
	}
	handle := func(pattern string, h http.Handler) {
		mux.Handle(pattern, h)
		s.patterns = append(s.patterns, pattern)
	}
	handle("GET /metrics", s.metrics.handler())
	handle("GET /openapi.json", openapi.JSONHandler(openapi.Document("Paddock", opts.Version, s.operations, native.Envelope)))
	handle("GET /docs", openapi.DocsHandler())
	handle("GET /redoc", kernelbox.Redoc())
	handle("GET /redoc/redoc.standalone.js", kernelbox.Redoc())
	handle("GET "+ui.Prefix, ui.New())
	guard := &auth.Guard{Auth: authn, Log: log, Deny: writeBySurface, Audit: &audit.Recorder{Store: eng.Events},
		URL: s.downloadAuth,
		Open: func(r *http.Request) bool {
			// Health probes, the static reference pages (which ask for the key), the
			// login and E2B's webhooks are open.
			if r.Method == http.MethodPost && r.URL.Path == accounts.TokenPath {
				return true
			}
			// E2B's webhooks authenticate by their signature (sandcaster.WebhookPath checks it).
			if r.Method == http.MethodPost && r.URL.Path == sandcaster.WebhookPath {
				return true
			}
			// The web UI is static; the API calls it makes carry the key.
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, ui.Prefix)) {
				return true
			}
			return r.Method == http.MethodGet && (r.URL.Path == "/health" || r.URL.Path == "/healthz" || r.URL.Path == "/docs" ||
				r.URL.Path == "/redoc" || r.URL.Path == "/redoc/redoc.standalone.js")
		}}
	// The E2B data plane goes before the key check: its requests carry the sandbox's own
	// access token (or a presigned URL), which the guest verifies. So do the port routes:
	// they accept the API key, the sandbox's traffic token or nothing (public ports).
	return httpx.WithRequestID(log, s.metrics.instrument(mux, log,
		e2bAPI.DataPlane(portsAPI.Handler(guard.Wrap(routeErrors(mux))), portsAPI, s.heavy)))
}

// downloadAuth authenticates a GET of a sandbox's file by the download URL's token it
// carries (native.DownloadParam), as the user it was signed for.
func (s *Server) downloadAuth(r *http.Request) (account.Identity, bool, error) {
	tok := r.URL.Query().Get(native.DownloadParam)
	if tok == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return account.Identity{}, false, nil
	}
	sandbox, path, ok := native.DownloadTarget(r.URL.Path)
	if !ok {
		return account.Identity{}, false, nil
	}
	id, err := s.accounts.AuthenticateDownload(r.Context(), tok, sandbox, path)
	return id, err == nil, err
}

// sandcasterProviders reads the model providers' keys and base URLs from the SDKs' standard
// variables (and OPENROUTER_*). They stay in the server: no sandbox ever sees them.
func sandcasterProviders() sandcaster.Providers {
	return sandcaster.Providers{
		AnthropicKey: os.Getenv("ANTHROPIC_API_KEY"), AnthropicBaseURL: os.Getenv("ANTHROPIC_BASE_URL"),
		OpenAIKey: os.Getenv("OPENAI_API_KEY"), OpenAIBaseURL: os.Getenv("OPENAI_BASE_URL"),
		OpenRouterKey: os.Getenv("OPENROUTER_API_KEY"), OpenRouterBaseURL: os.Getenv("OPENROUTER_BASE_URL"),
	}
}

// routeLister is a surface that lists the routes it mounts.
type routeLister interface {
	Routes() map[string]httpx.HandlerFunc
}

// serverOperations documents the routes the server adds around the surfaces.
var serverOperations = []openapi.Operation{
	{Pattern: "GET /metrics", Tag: "server", Summary: "Prometheus metrics (text exposition format)"},
	{Pattern: "GET /openapi.json", Tag: "server", Summary: "This document"},
	{Pattern: "GET /docs", Tag: "server", Summary: "Interactive API reference (HTML)", Public: true},
	{Pattern: "GET /redoc", Tag: "server", Summary: "API reference rendered by ReDoc, as KernelBox serves it (HTML, no CDN)", Public: true},
	{Pattern: "GET /redoc/redoc.standalone.js", Tag: "server", Summary: "The ReDoc script /redoc runs (ReDoc 2.5.0, MIT)", Public: true},
	{Pattern: "GET " + ui.Prefix, Tag: "server", Summary: "The web UI (static; its API calls carry the key): docs/ui.md", Public: true},
}

// Handler is the server's root handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Accounts is the server's account service.
func (s *Server) Accounts() *account.Service { return s.accounts }

// Engine is the server's engine.
func (s *Server) Engine() *engine.Engine { return s.eng }

// Serve answers on ln until ctx ends, then lets in-flight requests finish (up to the
// shutdown timeout) and closes the engine. Sandboxes keep running unless configured otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go s.pruneAudit(ctx)
	s.serveSSH(ctx)
	s.runSchedules(ctx)
	go s.sessions.CullIdle(ctx, min(time.Minute, max(s.cfg.SessionIdleTimeout/10, time.Second)))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close(ctx)
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.Close(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases what New opened: the templates, the engine (its pools' unclaimed sandboxes
// are deleted) and, with stop-sandboxes-on-exit, the running sandboxes. Serve calls it on
// its way out; calling it again does nothing.
func (s *Server) Close(ctx context.Context) { s.closeOnce.Do(func() { s.close(ctx) }) }

func (s *Server) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	s.closeSSH(ctx)
	s.closeSchedules()
	if s.templates != nil {
		if err := s.templates.Close(); err != nil {
			s.log.Error("close templates", "err", err)
		}
	}
	if s.sandcaster != nil {
		s.sandcaster.Close(ctx)
	}
	if s.cfg.StopSandboxesOnExit {
		s.eng.StopAll(ctx)
	}
	if s.accounts != nil {
		s.accounts.Flush(ctx)
	}
	if err := s.eng.Close(ctx); err != nil {
		s.log.Error("close engine", "err", err)
	}
}

// pruneAudit deletes audit events older than the retention period, hourly, while this
// replica leads.
func (s *Server) pruneAudit(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if s.eng.Leader.IsLeader() {
			s.pruneAuditOnce(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneAuditOnce deletes the audit and lifecycle events past the retention period.
func (s *Server) pruneAuditOnce(ctx context.Context) {
	if n, err := s.eng.Events.DeleteEventsBefore(ctx, time.Now().Add(-s.cfg.AuditRetention)); err != nil {
		s.log.Error("prune audit events", "err", err)
	} else if n > 0 {
		s.log.Info("pruned audit events", "count", n)
	}
	// Lifecycle events (E2B's events API) are kept as long as the audit trail.
	if n, err := s.eng.Lifecycle.DeleteLifecycleEventsBefore(ctx, time.Now().Add(-s.cfg.AuditRetention)); err != nil {
		s.log.Error("prune lifecycle events", "err", err)
	} else if n > 0 {
		s.log.Info("pruned lifecycle events", "count", n)
	}
}

// ListenSSH opens the SSH gateway's address (--ssh-listen), before New like Listen.
func ListenSSH(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("ssh-listen on %s: the address is already in use (another paddock serve, or sshd?): choose another address with --ssh-listen", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh-listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Listen opens the address `paddock serve` answers on. Call it before New, so that a
// server that cannot have its port never starts sandboxes.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: the address is already in use (another paddock serve?): stop that server or choose another address with --listen", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
