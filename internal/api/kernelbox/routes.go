// Package kernelbox is the KernelBox-compatible surface: persistent code sessions
// ("kernels") at /sessions and /kernels, each in a sandbox of its own.
package kernelbox

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/api/openapi"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/session"
)

// API serves the surface. Safe for concurrent use.
type API struct {
	reg     *session.Registry
	log     *slog.Logger
	maxBody int64
}

// New returns the surface.
func New(reg *session.Registry, maxBody int64, log *slog.Logger) *API {
	return &API{reg: reg, log: log, maxBody: maxBody}
}

// Routes lists every route of this surface.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"POST /sessions/{name}/execute":            a.sessionExecute,
		"POST /sessions/{name}/execute_with_retry": a.sessionRetry,
		"GET /kernels":                      a.list,
		"POST /kernels":                     a.create,
		"GET /kernels/{id}":                 a.get,
		"DELETE /kernels/{id}":              a.remove,
		"POST /kernels/{id}/restart":        a.restart,
		"POST /kernels/{id}/execute":        a.kernelExecute,
		"POST /kernels/{id}/execute/retry":  a.kernelRetry,
		"POST /kernels/{id}/execute/stream": a.kernelExecuteStream,
	}
}

// Register mounts the routes.
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: writeError}
	for pattern, h := range a.Routes() {
		mux.Handle(pattern, ad.Wrap(h))
	}
}

// writeError answers like KernelBox's FastAPI service: {"detail": "..."}.
func writeError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	httpx.WriteJSON(w, status, map[string]string{"detail": msg})
}

// WriteError lets middleware answer in this surface's shape.
func WriteError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeError(w, r, status, msg)
}

// owner is who the kernels a request makes belong to: the caller's user ID.
func owner(r *http.Request) string { return session.OwnerOf(r.Context()) }

// executeRequest is the body of the execute routes.
type executeRequest struct {
	Code     string   `json:"code"`
	Language string   `json:"language"`
	Timeout  *float64 `json:"timeout"` // seconds; null = none
	// Sandbox, on the /sessions routes, names an existing sandbox for a new session to run in.
	Sandbox string `json:"sandbox"`
}

// retryRequest is the body of the retry routes.
type retryRequest struct {
	executeRequest
	OnErrorCode      string   `json:"on_error_code"`
	ReplacementCodes []string `json:"replacement_codes"`
	MaxAttempts      int      `json:"max_attempts"`
}

func timeoutOf(t *float64) (time.Duration, error) {
	if t == nil {
		return 0, nil
	}
	if *t > 0 && *t < 0.1 {
		return 0, errdefs.InvalidArgument("timeout must be at least 0.1 seconds")
	}
	return httpx.Seconds("timeout", *t, manager.MaxTimeout)
}

// Operations documents the routes for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	return []openapi.Operation{
		{Pattern: "POST /sessions/{name}/execute", Tag: "kernels", Summary: "Run code in a named session (created on first use; state persists)",
			Request: executeRequest{}, Required: []string{"code"}, Response: session.Result{}},
		{Pattern: "POST /sessions/{name}/execute_with_retry", Tag: "kernels", Summary: "Run code, retrying with on_error_code or replacement_codes",
			Request: retryRequest{}, Required: []string{"code"}, Response: session.Result{}},
		{Pattern: "GET /kernels", Tag: "kernels", Summary: "List kernels: {kernels: [kernel]}", Response: kernelList{}},
		{Pattern: "POST /kernels", Tag: "kernels", Summary: "Create a kernel", Status: 201, Request: createRequest{}, Response: session.Kernel{}},
		{Pattern: "GET /kernels/{id}", Tag: "kernels", Summary: "Describe a kernel (by ID or name)", Response: kernelView{}},
		{Pattern: "DELETE /kernels/{id}", Tag: "kernels", Summary: "Delete a kernel (and the sandbox made for it)"},
		{Pattern: "POST /kernels/{id}/restart", Tag: "kernels", Summary: "Restart a kernel, clearing its state", Response: session.Kernel{}},
		{Pattern: "POST /kernels/{id}/execute", Tag: "kernels", Summary: "Run code in a kernel",
			Request: executeRequest{}, Required: []string{"code"}, Response: session.Result{}},
		{Pattern: "POST /kernels/{id}/execute/stream", Tag: "kernels", Summary: "Run code in a kernel, streaming server-sent events (Paddock extension)",
			Request: executeRequest{}, Required: []string{"code"}, Stream: true,
			Description: "Events: output {kind: stream|display_data|execute_result|error, name, text, data} for each output item as the kernel produces it; then done (the result of /execute, its outputs empty since they came as events) or error {message}. Errors found before the first output (404, 400, 413) answer with their status and no stream. Closing the connection interrupts the cell; the kernel keeps its state."},
		{Pattern: "POST /kernels/{id}/execute/retry", Tag: "kernels", Summary: "Run code in a kernel with retries",
			Request: retryRequest{}, Required: []string{"code"}, Response: session.Result{}},
	}
}
