package e2b

import (
	"net/http"

	"github.com/paddock/paddock/internal/errdefs"
)

// unsupportedRoutes are E2B routes this server does not implement yet; they answer 501 with
// E2B's error shape instead of a bare 404.
var unsupportedRoutes = map[string]string{
	"POST " + Prefix + "/sandboxes/{id}/fork":      "forking sandboxes",
	"POST " + Prefix + "/sandboxes/{id}/snapshots": "snapshots",
	"GET " + Prefix + "/snapshots":                 "snapshots",
	"DELETE " + Prefix + "/templates/{id}":         "templates and snapshots",
	"GET " + Prefix + "/sandboxes/{id}/logs":       "sandbox logs (use GET /sandboxes/{name}/logs for the audit log)",
	"GET " + Prefix + "/v2/sandboxes/{id}/logs":    "sandbox logs (use GET /sandboxes/{name}/logs for the audit log)",
	"GET " + Prefix + "/sandboxes/metrics":         "batch metrics (use GET /sandboxes/{id}/metrics)",
}

func (a *API) registerUnsupported(mux *http.ServeMux) {
	for pattern, what := range unsupportedRoutes {
		msg := what + " is not supported by this Paddock server yet"
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, r, http.StatusNotImplemented, msg)
		})
	}
}

// checkSupported refuses create options that would otherwise be silently ignored.
func checkSupported(req newSandbox) error {
	switch {
	case !isNull(req.MCP):
		return errdefs.InvalidArgument("mcp is not supported yet")
	case !isNull(req.IAM):
		return errdefs.InvalidArgument("iam is not supported yet")
	case len(req.VolumeMounts) > 0:
		return errdefs.InvalidArgument("volumeMounts are not supported yet")
	}
	return nil
}
