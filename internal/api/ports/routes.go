// Package ports is the surface that makes servers listening inside sandboxes reachable over
// HTTP and WebSocket through Paddock: /sandboxes/{name}/ports/{port}/…, Agent-Sandbox's
// /sandbox/{name}/… and /sandboxes/router/{id}/{port}/…, and (through Forward) the E2B data
// plane. Every byte goes through the sandbox's guest tunnel, never to a container address.
// Access needs the API key, the sandbox's traffic token, or a public port.
package ports

import (
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/auth"
	"github.com/paddock/paddock/internal/manager"
)

// API serves the port routes. Safe for concurrent use.
type API struct {
	m    *manager.Manager
	keys auth.Authenticator // nil = no authentication (--no-auth)
	log  *slog.Logger
	tr   *http.Transport // dials sandbox ports through guest tunnels; shared by every route

	router *http.ServeMux // Agent-Sandbox's path router, tried first
	proxy  *http.ServeMux // the other proxy routes
}

// New returns the surface; keys is nil when the server runs without authentication.
func New(m *manager.Manager, keys auth.Authenticator, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{m: m, keys: keys, log: log, tr: newTransport(m), router: http.NewServeMux(), proxy: http.NewServeMux()}
	// Any method: the request goes to the sandbox's server as it came.
	a.router.HandleFunc("/sandboxes/router/{sandboxID}/{port}/{path...}", a.routerRoute)
	a.proxy.HandleFunc("/sandboxes/{name}/ports/{port}/{path...}", a.portRoute)
	a.proxy.HandleFunc("/sandbox/{name}/{path...}", a.sandboxRoute)
	return a
}

// Routes lists the routes that change port visibility; they need the API key and are
// mounted behind the server's key check by Register.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"PUT /sandboxes/{name}/public-ports/{port}":    a.makePublic,
		"DELETE /sandboxes/{name}/public-ports/{port}": a.makePrivate,
	}
}

// Register mounts the visibility routes on mux (which sits behind the API-key check).
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: writeNative}
	for pattern, h := range a.Routes() {
		mux.Handle(pattern, ad.Wrap(h))
	}
}

// Handler serves the proxy routes and passes every other request to next. It goes in front
// of the API-key check: these routes accept the key, a traffic token or nothing (public
// ports), and check that themselves.
func (a *API) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A sandbox named "router" keeps its native routes unless the fourth segment is a port.
		if _, pattern := a.router.Handler(r); pattern != "" && numericPortSegment(r.URL.Path) {
			a.router.ServeHTTP(w, r)
			return
		}
		if _, pattern := a.proxy.Handler(r); pattern != "" {
			a.proxy.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
