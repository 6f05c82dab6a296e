package auth

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
)

// Guard is the authentication middleware.
type Guard struct {
	Keys *Keys // nil = no authentication (--no-auth)
	// Open reports routes that need no key (GET /health).
	Open func(r *http.Request) bool
	// Deny writes the 401 in the caller's surface shape.
	Deny httpx.ErrorWriter
	// Audit records auth_failed events, at most Limit a minute.
	Audit *audit.Recorder
	Limit int

	mu         sync.Mutex
	window     time.Time
	inWindow   int
	suppressed int
}

// Wrap protects next.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := httpx.RequestID(r.Context())
		if g.Keys == nil || (g.Open != nil && g.Open(r)) {
			next.ServeHTTP(w, r.WithContext(audit.WithOrigin(r.Context(), audit.Origin{Actor: "anonymous", RequestID: reqID})))
			return
		}
		id, ok := g.Keys.Check(FromHeaders(r.Header.Get))
		if !ok {
			g.recordFailure(r, reqID)
			g.Deny(w, r, http.StatusUnauthorized, "missing or invalid API key: send it as X-API-Key or Authorization: Bearer")
			return
		}
		next.ServeHTTP(w, r.WithContext(audit.WithOrigin(r.Context(), audit.Origin{Actor: id, RequestID: reqID})))
	})
}

// recordFailure writes an auth_failed event unless this minute's budget is spent; the next
// event that gets through says how many were suppressed.
func (g *Guard) recordFailure(r *http.Request, reqID string) {
	g.mu.Lock()
	now := time.Now()
	if now.Sub(g.window) >= time.Minute {
		g.window, g.inWindow = now, 0
	}
	limit := g.Limit
	if limit <= 0 {
		limit = 60
	}
	if g.inWindow >= limit {
		g.suppressed++
		g.mu.Unlock()
		return
	}
	g.inWindow++
	suppressed := g.suppressed
	g.suppressed = 0
	g.mu.Unlock()
	details := map[string]any{"method": r.Method, "path": r.URL.Path, "remote": r.RemoteAddr}
	if suppressed > 0 {
		details["suppressed_before"] = suppressed
	}
	ctx := audit.WithOrigin(context.WithoutCancel(r.Context()), audit.Origin{Actor: "unauthenticated", RequestID: reqID})
	_ = g.Audit.Record(ctx, audit.AuthFailed, "", details)
}
