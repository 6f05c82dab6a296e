package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
)

// Guard is the authentication middleware: it puts the caller's account.Identity and audit
// origin on the request context, or answers 401 in the surface's shape.
type Guard struct {
	Auth Authenticator // nil = no authentication (--no-auth)
	Log  *slog.Logger
	// Open reports routes that need no key (GET /health).
	Open func(r *http.Request) bool
	// URL authenticates a request by a signed URL it carries instead of a key (a download
	// URL); ok is false when it carries none (nil = no signed URLs).
	URL func(r *http.Request) (id account.Identity, ok bool, err error)
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
		if g.Auth == nil || (g.Open != nil && g.Open(r)) {
			next.ServeHTTP(w, r.WithContext(audit.WithOrigin(r.Context(), audit.Origin{Actor: "anonymous", RequestID: reqID})))
			return
		}
		key := FromHeaders(r.Header.Get)
		if key == "" {
			key = FromWebSocketProtocol(r.Header)
		}
		var id account.Identity
		var err error
		signed := false
		if key == "" && g.URL != nil {
			id, signed, err = g.URL(r)
		}
		if !signed && err == nil {
			id, err = g.Auth.Authenticate(r.Context(), key)
		}
		if err != nil {
			status := httpx.Status(err)
			if errors.Is(err, errdefs.ErrUnauthenticated) {
				g.recordFailure(r, reqID)
			} else if g.Log != nil {
				g.Log.Error("authenticate", "req", reqID, "err", err)
			}
			g.Deny(w, r, status, httpx.PublicMessage(err, reqID))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id, reqID)))
	})
}

// WithIdentity returns ctx carrying id and the audit origin it makes (the actor is the key
// or token ID, as before there were users).
func WithIdentity(ctx context.Context, id account.Identity, reqID string) context.Context {
	ctx = account.WithIdentity(ctx, id)
	return audit.WithOrigin(ctx, audit.Origin{Actor: id.KeyID, RequestID: reqID, UserID: id.UserID,
		UserEmail: id.Email, KeyID: id.KeyID})
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
