package ports

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Target is where Forward sends a request.
type Target struct {
	Sandbox *sandbox.Sandbox
	Port    int
	// Path is the escaped path the sandbox's server sees ("" = the request's own).
	Path string
	// Prefix, when set, is sent as X-Forwarded-Prefix so that apps can build links.
	Prefix string
	// DropQuery names a query parameter meant for Paddock, removed before forwarding.
	DropQuery string
	// Isolate marks answers served on Paddock's own origin (the path routes): their pages
	// must not act as that origin, where /docs keeps the API key and other sandboxes' pages
	// and cookies live.
	Isolate bool
}

// isolation is the policy Isolate adds to every answer: a document runs in a unique, opaque
// origin (scripts, forms and popups still work; same-origin storage and cookies of Paddock's
// origin do not). Apps that need an origin of their own use the host router instead.
const isolation = "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads"

// Failure is why a request could not reach the sandbox's port.
type Failure struct {
	Status  int
	Message string
	Port    int
}

// FailureWriter answers a Failure in a surface's shape.
type FailureWriter func(w http.ResponseWriter, r *http.Request, f Failure)

// newTransport returns the transport shared by every forwarded request. Its "host" is
// "<sandboxID>:<port>", so that idle tunnels are pooled per sandbox port; dialling one opens a
// guest tunnel.
func newTransport(m *manager.Manager) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			id, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			port, err := strconv.Atoi(p)
			if err != nil {
				return nil, err
			}
			return m.DialPort(ctx, id, port)
		},
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       60 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass the app's encoding through untouched
	}
}

// Forward proxies r to t's port through the guest tunnel, streaming both ways; WebSocket
// and other upgrades pass through. The caller has checked access and that the sandbox runs.
func (a *API) Forward(w http.ResponseWriter, r *http.Request, t Target, fail FailureWriter) {
	token := presentedToken(r).value
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetXForwarded()
			out := pr.Out
			out.URL.Scheme, out.URL.Host = "http", net.JoinHostPort(t.Sandbox.ID, strconv.Itoa(t.Port))
			out.Host = pr.In.Host // the app sees the Host the client used
			if t.Path != "" {
				out.URL.RawPath = t.Path
				if p, err := url.PathUnescape(t.Path); err == nil {
					out.URL.Path = p
				}
			}
			if t.Prefix != "" {
				out.Header.Set("X-Forwarded-Prefix", t.Prefix)
			}
			if t.DropQuery != "" && out.URL.Query().Has(t.DropQuery) {
				q := out.URL.Query()
				q.Del(t.DropQuery)
				out.URL.RawQuery = q.Encode()
			}
			if manager.ValidTrafficToken(t.Sandbox, token) {
				a.stripCredentials(out, token)
			} else {
				a.stripCredentials(out, "")
			}
			// Nor the sandbox's envd token: with it, code in the sandbox could reconfigure its guest.
			if v := out.Header.Get("X-Access-Token"); v != "" &&
				subtle.ConstantTimeCompare([]byte(strings.TrimSpace(v)), []byte(t.Sandbox.GuestToken)) == 1 {
				out.Header.Del("X-Access-Token")
			}
		},
		Transport: a.tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f := failure(t, err)
			if f.Status >= 500 && !errors.Is(err, context.Canceled) {
				a.log.Warn("port forward", "sandbox", t.Sandbox.ID, "port", t.Port, "err", err)
			}
			fail(w, r, f)
		},
	}
	rp.ModifyResponse = func(resp *http.Response) error {
		stripTokenCookies(resp.Header) // upgrades (101) are written from here, not by cookieGuard
		if t.Isolate {
			resp.Header.Add("Content-Security-Policy", isolation)
		}
		return nil
	}
	// Apps may answer before they have read the whole request (streams, WebSockets over h1).
	_ = http.NewResponseController(w).EnableFullDuplex()
	rp.ServeHTTP(cookieGuard{w}, r)
}

// failure turns a forwarding error into what the client sees. Messages do not name the
// sandbox: the caller knows which one it addressed, and a record's name (e2b-…, run-…) is
// not always what it used.
func failure(t Target, err error) Failure {
	var closed *manager.PortClosedError
	switch {
	case errors.As(err, &closed):
		return Failure{Status: http.StatusBadGateway, Port: t.Port,
			Message: fmt.Sprintf("nothing is listening on port %d in the sandbox", t.Port)}
	case errdefs.IsNotFound(err):
		return Failure{Status: http.StatusNotFound, Port: t.Port, Message: "the sandbox was not found"}
	case errors.Is(err, errdefs.ErrFailedPrecondition):
		return Failure{Status: http.StatusConflict, Port: t.Port, Message: "the sandbox is not running"}
	}
	return Failure{Status: http.StatusBadGateway, Port: t.Port,
		Message: fmt.Sprintf("port %d of the sandbox did not answer", t.Port)}
}
