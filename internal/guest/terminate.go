package guest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/guestproto"
)

// maxTerminateGrace bounds the grace period POST /terminate accepts.
const maxTerminateGrace = 10 * time.Minute

// Terminate ends every process of the sandbox but the guest: SIGTERM, up to grace (or until
// ctx ends) for them to exit, then SIGKILL for what is left. It reports whether anything had
// to be killed. The guest itself ignores both signals and keeps serving.
func (s *Services) Terminate(ctx context.Context, grace time.Duration) (forced bool) {
	s.Forward(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.alive() {
		select {
		case <-tick.C:
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		s.Forward(syscall.SIGKILL)
		return true
	}
	return false
}

// terminateHandler serves POST /terminate: the host's graceful stop. The guest answers once
// the sandbox's processes are gone; the host then kills the unit without waiting.
func (s *Services) terminateHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req guestproto.TerminateRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInitBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "invalid terminate body: "+err.Error())
			return
		}
		if req.GraceMs < 0 || req.GraceMs > maxTerminateGrace.Milliseconds() {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("graceMs must be between 0 and %d", maxTerminateGrace.Milliseconds()))
			return
		}
		grace := time.Duration(req.GraceMs) * time.Millisecond
		writeJSON(w, http.StatusOK, guestproto.TerminateResponse{Forced: s.Terminate(r.Context(), grace)})
	}
}
