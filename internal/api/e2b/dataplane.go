package e2b

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"path"
	"strconv"
	"strings"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/api/ports"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Ports of the guest's two protocols, as E2B numbers them.
const (
	EnvdPort            = 49983
	CodeInterpreterPort = 49999
)

// DataPlane serves requests addressed to a sandbox — by the E2b-Sandbox-Id and
// E2b-Sandbox-Port headers, by a Host of "<port>-<id>.<domain>", or (for SDKs that omit the
// headers) by the sandbox's access token or a presigned /files URL — by proxying them to the
// sandbox's guest; everything else goes to next. guestAccess limits each guest port to its
// protocol's routes, and the guest checks the access token. Ports other than envd's and the
// code interpreter's go to servers in the sandbox through fwd. File transfers (envd's
// /files) run under heavy, the server's cap on heavy requests (nil = none).
func (a *API) DataPlane(next http.Handler, fwd *ports.API, heavy *httpx.Limiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, port, ok := target(r)
		if !ok {
			if sb := a.byToken(r); sb != nil {
				defer a.m.Serving(r.Context(), sb.ID)()
				a.proxy(w, r, sb, EnvdPort, heavy)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		sb, err := a.m.Get(r.Context(), id)
		if err == nil {
			// A request counts as use, and resumes a paused sandbox that resumes on traffic
			// (autoResume); it waits for the resume.
			sb, err = a.m.WakeForRequest(r.Context(), sb)
		}
		if err != nil || sb.State != sandbox.StateRunning {
			httpx.WriteJSON(w, http.StatusBadGateway, map[string]any{"sandboxId": id, "message": "The sandbox was not found", "code": 502})
			return
		}
		defer a.m.Serving(r.Context(), sb.ID)() // not idle while a stream or transfer lasts
		if port != EnvdPort && port != CodeInterpreterPort {
			forwardPort(w, r, sb, port, fwd)
			return
		}
		if status, msg := guestAccess(r, sb, port); status != 0 {
			httpx.WriteJSON(w, status, map[string]any{"sandboxId": sb.ID, "code": status, "message": msg})
			return
		}
		a.proxy(w, r, sb, port, heavy)
	})
}

// guestAccess decides whether a request for the guest's port may pass: 0, or the status and
// message to refuse it with. Each port reaches only its own protocol's routes, so the guest's
// internal /init, the port tunnel and the envd routes are never reachable through 49999, and
// /init never through 49983. On 49983 the guest checks the access token itself. On 49999
// /execute needs the access token (the code-interpreter SDK sends it there); the context
// routes and /health, on which the SDK sends none, cannot run code, read env vars or
// reconfigure the guest, and need the traffic token when the sandbox's ports are private.
// A wrong access token is refused on every route.
func guestAccess(r *http.Request, sb *sandbox.Sandbox, port int) (int, string) {
	p := r.URL.Path
	if p != path.Clean(p) {
		return http.StatusNotFound, "path not found: " + p
	}
	if port == EnvdPort {
		if !envdRoute(r.Method, p) {
			return http.StatusNotFound, "path not found on port 49983: " + p
		}
		return 0, ""
	}
	needToken, ok := codeRoute(r.Method, p)
	if !ok {
		return http.StatusNotFound, "path not found on port 49999: " + p
	}
	tok := r.Header.Get("X-Access-Token")
	switch {
	case tok != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(sb.GuestToken)) != 1:
		return http.StatusUnauthorized, "invalid access token (X-Access-Token)"
	case tok == "" && needToken:
		return http.StatusUnauthorized, "this route needs the sandbox's access token (X-Access-Token)"
	case tok == "" && !manager.TrafficAllowed(sb, port, ports.PresentedToken(r)):
		return http.StatusForbidden, "this sandbox's ports need its traffic access token (e2b-traffic-access-token header)"
	}
	return 0, ""
}

// envdRoute reports whether method and path are one of envd's public routes.
func envdRoute(method, p string) bool {
	switch {
	case strings.HasPrefix(p, "/process.Process/"), strings.HasPrefix(p, "/filesystem.Filesystem/"):
		return method == http.MethodPost || method == http.MethodGet
	case p == "/files":
		return method == http.MethodGet || method == http.MethodPost
	case p == "/health", p == "/envs", p == "/metrics":
		return method == http.MethodGet
	}
	return false
}

// codeRoute reports whether method and path are a code-interpreter route, and whether it
// needs the access token.
func codeRoute(method, p string) (needToken, ok bool) {
	rest, isCtx := strings.CutPrefix(p, "/contexts/")
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case p == "/execute":
		return true, method == http.MethodPost
	case p == "/health":
		return false, method == http.MethodGet
	case p == "/contexts":
		return false, method == http.MethodGet || method == http.MethodPost
	case isCtx && id != "" && sub == "":
		return false, method == http.MethodDelete
	case isCtx && id != "" && sub == "restart":
		return false, method == http.MethodPost
	}
	return false, false
}

// forwardPort reaches a user's server in the sandbox. Ports are public unless the sandbox was
// created with network.allowPublicTraffic false; then the e2b-traffic-access-token header
// (or the API key) is required, as on E2B.
func forwardPort(w http.ResponseWriter, r *http.Request, sb *sandbox.Sandbox, port int, fwd *ports.API) {
	fail := func(w http.ResponseWriter, _ *http.Request, f ports.Failure) {
		httpx.WriteJSON(w, f.Status, map[string]any{"sandboxId": sb.ID, "port": f.Port, "code": f.Status, "message": f.Message})
	}
	if err := manager.ValidPort(port); err != nil {
		fail(w, r, ports.Failure{Status: http.StatusBadRequest, Port: port, Message: err.Error()})
		return
	}
	if !fwd.KeyOK(r, sb) && !manager.TrafficAllowed(sb, port, ports.PresentedToken(r)) {
		fail(w, r, ports.Failure{Status: http.StatusForbidden, Port: port,
			Message: "this sandbox's ports need its traffic access token (e2b-traffic-access-token header)"})
		return
	}
	if r.Header.Get("E2b-Sandbox-Id") == "" {
		ports.RememberToken(w, r, sb, "/") // host-routed: the cookie stays with this port's own origin
	}
	fwd.Forward(w, r, ports.Target{Sandbox: sb, Port: port}, fail)
}

// target reads the addressed sandbox and port from headers, else from the Host.
func target(r *http.Request) (id string, port int, ok bool) {
	if id, p := r.Header.Get("E2b-Sandbox-Id"), r.Header.Get("E2b-Sandbox-Port"); id != "" && p != "" {
		n, err := strconv.Atoi(p)
		return shortID(id), n, err == nil && validID(shortID(id))
	}
	host, _, _ := strings.Cut(r.Host, ":")
	label, rest, found := strings.Cut(host, ".")
	if !found || rest == "" {
		return "", 0, false
	}
	p, sid, found := strings.Cut(label, "-")
	n, err := strconv.Atoi(p)
	if !found || err != nil || !validID(sid) {
		return "", 0, false
	}
	return sid, n, true
}

// shortID drops the legacy "-<clientID>" suffix.
func shortID(id string) string {
	id, _, _ = strings.Cut(id, "-")
	return id
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// byToken finds the sandbox a header-less envd request (older SDKs' /files and /health)
// belongs to, by its access token or its presigned-URL signature.
func (a *API) byToken(r *http.Request) *sandbox.Sandbox {
	tok := r.Header.Get("X-Access-Token")
	q := r.URL.Query()
	sig := q.Get("signature")
	if r.URL.Path != "/files" && !(tok != "" && r.URL.Path == "/health") {
		return nil
	}
	if tok != "" {
		if sb, err := a.m.ByGuestToken(r.Context(), tok); err == nil {
			return sb
		}
	}
	if sig == "" {
		return nil
	}
	// A presigned URL names no sandbox and its signature is keyed by the sandbox's token, so
	// finding it takes a pass over the running sandboxes (older SDKs' presigned /files only).
	sbs, err := a.m.List(r.Context(), sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning}})
	if err != nil {
		return nil
	}
	op := "read"
	if r.Method == http.MethodPost {
		op = "write"
	}
	exp, _ := strconv.ParseInt(q.Get("signature_expiration"), 10, 64)
	for _, sb := range sbs {
		if subtle.ConstantTimeCompare([]byte(sig), []byte(guestproto.Sign(q.Get("path"), op, q.Get("username"), sb.GuestToken, exp))) == 1 {
			return sb
		}
	}
	return nil
}

// proxy streams the request to the sandbox's guest and the answer back, unbuffered: a file
// transfer holds the proxy's copy buffer, whatever the file's size.
func (a *API) proxy(w http.ResponseWriter, r *http.Request, sb *sandbox.Sandbox, port int, heavy *httpx.Limiter) {
	if port == EnvdPort && r.URL.Path == "/files" && heavy != nil {
		release, err := heavy.Acquire(r.Context())
		if err != nil {
			httpx.SetRetryAfter(w)
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"sandboxId": sb.ID, "code": http.StatusServiceUnavailable, "message": err.Error()})
			return
		}
		defer release()
	}
	notFound := func(w http.ResponseWriter) {
		httpx.WriteJSON(w, http.StatusBadGateway, map[string]any{"sandboxId": sb.ID, "message": "The sandbox was not found", "code": 502})
	}
	tr, err := a.m.GuestTransport(r.Context(), sb.ID)
	if err != nil { // stopped or deleted since it was looked up
		notFound(w)
		return
	}
	token := sb.GuestToken
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "http", "guest", "guest"
			// The SDK sends no access token on the code interpreter's context routes, which
			// guestAccess let through; the guest wants it on everything but /health.
			if port == CodeInterpreterPort && pr.Out.Header.Get("X-Access-Token") == "" {
				pr.Out.Header.Set("X-Access-Token", token)
			}
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			a.log.Warn("e2b data plane", "sandbox", sb.ID, "err", err)
			notFound(w)
		},
	}
	// Streams answer before the request body has been read to its end (SDKs send it chunked).
	// Without full duplex, Go's HTTP/1.1 server discards the unread request body as soon as
	// the response headers go out, which breaks the upstream write and with it the stream.
	_ = http.NewResponseController(w).EnableFullDuplex()
	rp.ServeHTTP(w, r)
}

// publicPorts reads network.allowPublicTraffic (default true: every port public). false keeps
// the ports private behind the sandbox's traffic token, which create then returns; like E2B,
// that needs a secured sandbox.
func publicPorts(req newSandbox) ([]int, error) {
	var n struct {
		AllowPublicTraffic *bool `json:"allowPublicTraffic"`
	}
	if b, err := json.Marshal(req.Network); err == nil {
		_ = json.Unmarshal(b, &n)
	}
	if n.AllowPublicTraffic == nil || *n.AllowPublicTraffic {
		return []int{manager.AllPorts}, nil
	}
	if req.Secure != nil && !*req.Secure {
		return nil, errdefs.InvalidArgument("network.allowPublicTraffic false needs a secure sandbox")
	}
	return nil, nil
}
