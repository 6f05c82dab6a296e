package server

import (
	"io"
	"net/http"
	"strings"

	"github.com/paddock/paddock/internal/api/agentsandbox"
	"github.com/paddock/paddock/internal/api/e2b"
	"github.com/paddock/paddock/internal/api/kernelbox"
	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/api/sandcaster"
	"github.com/paddock/paddock/internal/api/trinity"
)

// writeBySurface answers an error in the shape of the surface the request was for: E2B's
// under /e2b/v1, Agent-Sandbox's under /api/v1, KernelBox's under /kernels and its
// /sessions/{name}/execute routes, the Sandcaster's on /query, /webhooks/e2b and under /runs and
// /sessions, Trinity's under /api/agents, the native envelope elsewhere.
func writeBySurface(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := r.URL.Path
	switch {
	case p == e2b.Prefix || strings.HasPrefix(p, e2b.Prefix+"/"):
		e2b.WriteError(w, r, status, msg)
	case p == agentsandbox.Prefix || strings.HasPrefix(p, agentsandbox.Prefix+"/"):
		agentsandbox.WriteError(w, r, status, msg)
	case p == "/kernels" || strings.HasPrefix(p, "/kernels/") || kernelboxSession(p):
		kernelbox.WriteError(w, r, status, msg)
	case p == sandcaster.QueryPath || p == sandcaster.RunsPath || strings.HasPrefix(p, sandcaster.RunsPath+"/") ||
		p == sandcaster.SessionsPath || strings.HasPrefix(p, sandcaster.SessionsPath+"/") || p == sandcaster.WebhookPath:
		sandcaster.WriteError(w, r, status, msg)
	case p == trinity.Prefix || strings.HasPrefix(p, trinity.Prefix+"/"):
		trinity.WriteError(w, r, status, msg)
	default:
		native.WriteError(w, r, status, msg)
	}
}

// kernelboxSession reports whether p is one of KernelBox's session routes
// (/sessions/{name}/execute and /execute_with_retry); the rest of /sessions is Sandcaster's.
func kernelboxSession(p string) bool {
	return strings.HasPrefix(p, "/sessions/") && (strings.HasSuffix(p, "/execute") || strings.HasSuffix(p, "/execute_with_retry"))
}

// routeErrors serves mux, but answers the mux's own "404 page not found" and "405 method
// not allowed" (plain text) in the JSON error shape of the surface the path belongs to; a
// 405 keeps the mux's Allow header.
func routeErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No route: h is the mux's error handler (or a redirect to a cleaned path, which
		// goes through as it is).
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusNotFound:
			writeBySurface(w, r, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path+": see /openapi.json for the routes")
		case http.StatusMethodNotAllowed:
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeBySurface(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on "+r.URL.Path+": use "+allow)
		default:
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			_, _ = io.WriteString(w, rec.body.String())
		}
	})
}

// headerRecorder keeps what the mux's small error and redirect handlers write.
type headerRecorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (h *headerRecorder) Header() http.Header { return h.header }

func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *headerRecorder) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}
