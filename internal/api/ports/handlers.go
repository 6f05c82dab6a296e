package ports

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// route is what one proxy request addresses.
type route struct {
	sandbox string
	port    string // "" = the sandbox's application port
	segs    int    // path segments of the route prefix, dropped before forwarding
	query   string // query parameter that chose the port, dropped before forwarding
}

// portRoute is /sandboxes/{name}/ports/{port}/{path...}.
func (a *API) portRoute(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, route{sandbox: r.PathValue("name"), port: r.PathValue("port"), segs: 4})
}

// sandboxRoute is Agent-Sandbox's /sandbox/{name}/{path...}: the port comes from ?port=,
// else the sandbox's application port.
func (a *API) sandboxRoute(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, route{sandbox: r.PathValue("name"), port: r.URL.Query().Get("port"), segs: 2, query: "port"})
}

// routerRoute is Agent-Sandbox's /sandboxes/router/{sandboxID}/{port}/{path...}.
func (a *API) routerRoute(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, route{sandbox: r.PathValue("sandboxID"), port: r.PathValue("port"), segs: 4})
}

// serve checks access, the port and the sandbox's state, then forwards. Requests without
// any credential learn nothing about which sandboxes exist: they get 401 either way.
func (a *API) serve(w http.ResponseWriter, r *http.Request, rt route) {
	// Read as the server: a traffic token or a public port admits requests without a key.
	sb, err := a.m.GetRecent(r.Context(), rt.sandbox)
	if err != nil {
		if _, keyed := a.caller(r); errdefs.IsNotFound(err) && !keyed {
			a.deny(w, r)
			return
		}
		a.writeErr(w, r, err)
		return
	}
	port := manager.AppPort(sb)
	var portErr error
	if rt.port != "" {
		port, portErr = parsePort(rt.port)
	}
	if keyErr := a.keyAccess(r, sb, rt.sandbox); keyErr != nil && (portErr != nil || !manager.TrafficAllowed(sb, port, presentedToken(r).value)) {
		if keyErr == errUnauthenticated {
			a.deny(w, r)
		} else {
			a.writeErr(w, r, keyErr) // another user's sandbox: 404, as if it did not exist
		}
		return
	}
	if portErr != nil {
		a.writeErr(w, r, portErr)
		return
	}
	// An admitted request counts as use, and resumes a paused sandbox that resumes on
	// traffic (E2B's autoResume): it waits for the resume.
	if sb, err = a.m.WakeForRequest(r.Context(), sb); err != nil {
		a.writeErr(w, r, err)
		return
	}
	defer a.m.Serving(r.Context(), sb.ID)()
	if sb.State != sandbox.StateRunning {
		a.writeErr(w, r, errdefs.FailedPrecondition("sandbox %q is %s, not running", sb.Name, sb.State))
		return
	}
	prefix := prefixOf(r.URL.EscapedPath(), rt.segs)
	RememberToken(w, r, sb, prefix+"/")
	a.Forward(w, r, Target{Sandbox: sb, Port: port, Path: strings.TrimPrefix(r.URL.EscapedPath(), prefix),
		Prefix: prefix, DropQuery: rt.query, Isolate: true}, a.failNative)
}

// parsePort reads a port number.
func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, errdefs.InvalidArgument("port %q: use a number from 1 to 65535", s)
	}
	return p, manager.ValidPort(p)
}

// prefixOf is the first n segments of an escaped path ("/a/b/c", 2 → "/a/b").
func prefixOf(path string, n int) string {
	i := 0
	for seg := 0; seg < n; seg++ {
		j := strings.IndexByte(path[i+1:], '/')
		if j < 0 {
			return path
		}
		i += j + 1
	}
	return path[:i]
}

// numericPortSegment reports whether the fourth segment of /sandboxes/router/{id}/{port}/…
// is a number.
func numericPortSegment(path string) bool {
	parts := strings.SplitN(path, "/", 6)
	if len(parts) < 5 || parts[4] == "" {
		return false
	}
	for _, c := range parts[4] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// deny answers a request that lacks every acceptable credential.
func (a *API) deny(w http.ResponseWriter, r *http.Request) {
	native.WriteError(w, r, http.StatusUnauthorized, "this port needs the API key (X-API-Key or Authorization: Bearer) or the sandbox's traffic token ("+TokenHeader+" header or ?token=)")
}

// writeErr answers a classed error in the native shape.
func (a *API) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	status := httpx.Status(err)
	if status >= 500 {
		a.log.Error("port request failed", "req", httpx.RequestID(r.Context()), "path", r.URL.Path, "err", err)
	}
	native.WriteError(w, r, status, httpx.PublicMessage(err, httpx.RequestID(r.Context())))
}

// failNative writes a forwarding failure in the native shape.
func (a *API) failNative(w http.ResponseWriter, r *http.Request, f Failure) {
	native.WriteError(w, r, f.Status, f.Message)
}

// writeNative is the native error shape, for the visibility routes' adapter.
func writeNative(w http.ResponseWriter, r *http.Request, status int, msg string) {
	native.WriteError(w, r, status, msg)
}
