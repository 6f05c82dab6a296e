// Package mcp is Paddock's MCP server at /mcp: Streamable HTTP on the official Go SDK, with
// Agent-Sandbox's sandbox tools and Paddock's own run, exec, file and code tools, each a
// translation into manager and session calls made with the caller's identity.
package mcp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/session"
	"github.com/paddock/paddock/internal/template"
	"github.com/paddock/paddock/internal/toolout"
)

// Path is where the server answers.
const Path = "/mcp"

// OutputLimit caps the text a tool answers with; a tool whose output is longer says so.
const OutputLimit = toolout.Limit

// Options are what the server needs beyond the manager.
type Options struct {
	Templates *template.Store   // the templates createSandbox and run make sandboxes from
	Sessions  *session.Registry // run_code's persistent code sessions
	Version   string
	// MaxBodyBytes caps one request body, file contents of write_file included
	// (default 8 MiB).
	MaxBodyBytes int64
	// SessionTimeout closes an MCP session idle this long (default 30 minutes).
	SessionTimeout time.Duration
	// NoAuth says the server checks no keys: then requests that reach it on loopback must
	// name a loopback host (the SDK's DNS-rebinding guard). With keys a rebinding page
	// has no key to send, and the guard would refuse a reverse proxy's Host.
	NoAuth bool
	Log    *slog.Logger
}

// Server serves MCP. Safe for concurrent use.
type Server struct {
	m    *manager.Manager
	opts Options
	log  *slog.Logger
	srv  *sdk.Server
	// sessions serves the session-based revisions (up to 2025-11-25), stateless the
	// revisions from 2026-07-28 on: the SDK serves those only on a stateless handler.
	sessions, stateless http.Handler
}

// firstStateless is the first revision without sessions (SEP-2567).
const firstStateless = "2026-07-28"

// New builds the server and its tools. The tools that list the templates are rebuilt when
// the templates change.
func New(m *manager.Manager, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 30 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{m: m, opts: opts, log: opts.Log.With("surface", "mcp")}
	s.srv = sdk.NewServer(&sdk.Implementation{Name: "paddock", Title: "Paddock sandboxes", Version: opts.Version},
		&sdk.ServerOptions{Instructions: instructions, Logger: s.log})
	s.addTools()
	if opts.Templates != nil {
		opts.Templates.OnChange(func([]template.Template) { s.addTemplateTools() })
	}
	server := func(*http.Request) *sdk.Server { return s.srv }
	withIdentity := sdkauth.RequireBearerToken(verify, &sdkauth.RequireBearerTokenOptions{AllowMissingExpiration: true})
	s.sessions = withIdentity(sdk.NewStreamableHTTPHandler(server, &sdk.StreamableHTTPOptions{
		SessionTimeout: opts.SessionTimeout, MaxRequestBodyBytes: opts.MaxBodyBytes, Logger: s.log,
		DisableLocalhostProtection: !opts.NoAuth}))
	s.stateless = withIdentity(sdk.NewStreamableHTTPHandler(server, &sdk.StreamableHTTPOptions{Stateless: true,
		MaxRequestBodyBytes: opts.MaxBodyBytes, PropagateRequestCancellation: true, Logger: s.log,
		DisableLocalhostProtection: !opts.NoAuth}))
	return s
}

// instructions is what initialize and server/discover tell the client.
const instructions = "Paddock runs commands and code in isolated sandboxes. One-shot: run. " +
	"Long-lived: createSandbox, then exec, read_file, write_file (or sandboxExecutor), then deleteSandbox. " +
	"Persistent code state: run_code. Tool output is capped at 64 KiB and says so when cut."

// Register mounts the server on mux, behind the server's key check like every other route.
func (s *Server) Register(mux *http.ServeMux) {
	for _, p := range Patterns {
		mux.Handle(p, s)
	}
}

// Patterns are the routes the server mounts: POST carries every message; GET (the
// session's event stream) and DELETE (end of a session) serve the session-based revisions.
var Patterns = []string{"POST " + Path, "GET " + Path, "DELETE " + Path}

// ServeHTTP hands the request to the SDK with the caller's identity as bearer token info:
// the SDK keeps each session to the user who opened it, and gives every tool call the
// identity of the request that carried it. A request in a stateless revision says so in its
// Mcp-Protocol-Version header (which the SDK checks against the request's _meta); one
// without it is an initialize or a request of a session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := s.sessions
	if r.Header.Get("Mcp-Protocol-Version") >= firstStateless {
		h = s.stateless
	}
	if r.Header.Get("Authorization") == "" {
		// Authenticated by X-API-Key, or no authentication: the SDK's middleware wants a
		// bearer token to hand to verify, which reads the identity from the context.
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer paddock")
	}
	h.ServeHTTP(w, r)
}

// callerKey is where verify keeps the caller in the token info's Extra.
const callerKey = "paddock.caller"

// caller is who made a request, as the server's key check found it.
type caller struct {
	origin   audit.Origin
	identity account.Identity
	hasID    bool
}

// verify turns the identity the server's key check put on the request into the SDK's
// token info. The token itself was checked already.
func verify(ctx context.Context, _ string, _ *http.Request) (*sdkauth.TokenInfo, error) {
	c := caller{origin: audit.OriginFrom(ctx)}
	c.identity, c.hasID = account.IdentityFrom(ctx)
	user := c.identity.UserID
	if user == "" {
		user = c.origin.Actor
	}
	if user == "" {
		return nil, errors.Join(sdkauth.ErrInvalidToken, errors.New("no identity on the request"))
	}
	return &sdkauth.TokenInfo{UserID: user, Extra: map[string]any{callerKey: c}}, nil
}

// callContext is ctx (the session's) carrying the identity and origin of the request that
// carried the call, for the manager's ownership checks and audit events.
func callContext(ctx context.Context, extra *sdk.RequestExtra) context.Context {
	if extra == nil || extra.TokenInfo == nil {
		return ctx
	}
	c, ok := extra.TokenInfo.Extra[callerKey].(caller)
	if !ok {
		return ctx
	}
	if c.hasID {
		ctx = account.WithIdentity(ctx, c.identity)
	}
	return audit.WithOrigin(ctx, c.origin)
}

// owner is the actor sandboxes and code sessions made by a call belong to.
func owner(ctx context.Context) string { return audit.OriginFrom(ctx).Actor }

// public is the error a tool answers with: the class's public message, or for an internal
// failure a reference to the request, whose cause goes to the log.
func (s *Server) public(ctx context.Context, tool string, err error) error {
	reqID := audit.OriginFrom(ctx).RequestID
	if httpx.Status(err) == http.StatusInternalServerError {
		s.log.Error("tool failed", "op", tool, "req", reqID, "err", err)
	}
	return errors.New(httpx.PublicMessage(err, reqID))
}
