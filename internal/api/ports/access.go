package ports

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/auth"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// Where a traffic token may be presented. E2B's SDK header is accepted on every route.
const (
	TokenHeader    = "X-Paddock-Traffic-Token"
	E2BTokenHeader = "E2B-Traffic-Access-Token"
	TokenQuery     = "token"
	// TokenCookie is set, scoped to the route's path, when a token arrived as ?token=, so
	// that a browser page opened with the token can load its assets and open WebSockets.
	TokenCookie = "paddock_traffic_token"
)

// token is a presented traffic token and where it came from.
type token struct {
	value     string
	fromQuery bool
}

// presentedToken finds a traffic token: header, then ?token=, then the cookie.
func presentedToken(r *http.Request) token {
	for _, h := range []string{TokenHeader, E2BTokenHeader} {
		if v := strings.TrimSpace(r.Header.Get(h)); v != "" {
			return token{value: v}
		}
	}
	if v := r.URL.Query().Get(TokenQuery); v != "" {
		return token{value: v, fromQuery: true}
	}
	if c, err := r.Cookie(TokenCookie); err == nil && c.Value != "" {
		return token{value: c.Value}
	}
	return token{}
}

// RememberToken sets the token cookie, scoped to path, when r brought sb's traffic token as
// ?token=: a browser that opened a page with the token keeps access to the page's other
// requests (scripts, images, WebSockets).
func RememberToken(w http.ResponseWriter, r *http.Request, sb *sandbox.Sandbox, path string) {
	if tok := presentedToken(r); tok.fromQuery && manager.ValidTrafficToken(sb, tok.value) {
		http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: tok.value, Path: path,
			HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
}

// PresentedToken is the traffic token r carries ("" = none), for other surfaces.
func PresentedToken(r *http.Request) string { return presentedToken(r).value }

// caller authenticates r's API key or login token: the context to check access with, and
// false when r carries no valid one. Without authentication every request is the system's.
func (a *API) caller(r *http.Request) (context.Context, bool) {
	if a.keys == nil {
		return r.Context(), true
	}
	id, err := a.keys.Authenticate(r.Context(), auth.FromHeaders(r.Header.Get))
	if err != nil {
		return r.Context(), false
	}
	return account.WithIdentity(r.Context(), id), true
}

// keyAccess is what r's key allows on sb's ports: nil when it is valid and its user may use
// the sandbox's ports (an operator share, the owner, an admin), errUnauthenticated when r
// has no valid key, else the manager's not found or permission denied.
func (a *API) keyAccess(r *http.Request, sb *sandbox.Sandbox, ref string) error {
	ctx, ok := a.caller(r)
	if !ok {
		return errUnauthenticated
	}
	return a.m.Check(ctx, sb, manager.AccessOperate, ref)
}

// errUnauthenticated: the request carries no valid key (it may still hold a traffic token).
var errUnauthenticated = errors.New("no valid API key")

// KeyOK reports whether r's key lets its user reach sb's ports, for other surfaces that
// forward to ports (the E2B data plane).
func (a *API) KeyOK(r *http.Request, sb *sandbox.Sandbox) bool {
	return a.keyAccess(r, sb, sb.ID) == nil
}

// stripCredentials removes from an outgoing request whatever reached Paddock, not the
// sandbox: a valid API key (code in the sandbox must never see it), the traffic-token
// headers, the token cookie and a ?token= equal to trafficToken. Headers that are not
// Paddock's credentials (an app's own Authorization) pass through.
func (a *API) stripCredentials(out *http.Request, trafficToken string) {
	if a.keys != nil {
		if _, err := a.keys.Authenticate(out.Context(), strings.TrimSpace(out.Header.Get("X-API-Key"))); err == nil {
			out.Header.Del("X-API-Key")
		}
		if v := out.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "Bearer ") {
			if _, err := a.keys.Authenticate(out.Context(), strings.TrimSpace(v[7:])); err == nil {
				out.Header.Del("Authorization")
			}
		}
	}
	out.Header.Del(TokenHeader)
	out.Header.Del(E2BTokenHeader)
	if trafficToken != "" {
		q := out.URL.Query()
		if q.Get(TokenQuery) == trafficToken {
			q.Del(TokenQuery)
			out.URL.RawQuery = q.Encode()
		}
	}
	dropCookie(out, TokenCookie)
}

// dropCookie removes one cookie from the request's Cookie headers, keeping the others.
func dropCookie(r *http.Request, name string) {
	cookies := r.Cookies()
	kept := cookies[:0]
	for _, c := range cookies {
		if c.Name != name {
			kept = append(kept, c)
		}
	}
	if len(kept) == len(cookies) {
		return
	}
	r.Header.Del("Cookie")
	for _, c := range kept {
		r.AddCookie(c)
	}
}
