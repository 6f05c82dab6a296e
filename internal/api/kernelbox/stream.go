package kernelbox

import (
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/session"
)

// kernelExecuteStream is POST /kernels/{id}/execute/stream (a Paddock extension): the
// execution of /kernels/{id}/execute reported as server-sent events while the cell runs.
// Each output item is an "output" event as the kernel produces it; the end is a "done"
// event with the result (its outputs empty: they came as events), or an "error" event.
// Errors before the first output (unknown kernel, empty code) answer with their status.
func (a *API) kernelExecuteStream(w http.ResponseWriter, r *http.Request) error {
	var req executeRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	timeout, err := timeoutOf(req.Timeout)
	if err != nil {
		return err
	}
	if _, err := a.reg.Get(r.Context(), r.PathValue("id"), owner(r)); err != nil {
		return err
	}
	// The stream starts with the first output, so that a refused cell still answers with
	// its status code.
	var sse *httpx.SSE
	start := func() error {
		if sse != nil {
			return nil
		}
		sse, err = httpx.NewSSE(w)
		return err
	}
	res, err := a.reg.ExecuteStream(r.Context(), r.PathValue("id"), owner(r), req.Language, req.Code, timeout,
		func(o session.Output) error {
			if err := start(); err != nil {
				return err
			}
			return sse.Send("output", o)
		})
	switch {
	case err != nil && sse == nil:
		return err // nothing sent yet: the error answers with its status
	case err != nil:
		reqID := httpx.RequestID(r.Context())
		a.log.Warn("execute stream", "req", reqID, "err", err)
		_ = sse.Send("error", streamError{Message: httpx.PublicMessage(err, reqID)})
		return nil
	}
	if err := start(); err != nil {
		return err
	}
	res.Outputs = []session.Output{}
	_ = sse.Send("done", res)
	return nil
}

// streamError is the data of an "error" event.
type streamError struct {
	Message string `json:"message"`
}
