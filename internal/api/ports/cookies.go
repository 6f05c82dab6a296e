package ports

import (
	"net/http"
	"strings"
)

// stripTokenCookies removes from an app's answer every Set-Cookie that would plant Paddock's
// token cookie in the browser: on the path routes the app answers for Paddock's own origin,
// and on the host router a Domain attribute reaches every sandbox's host, so such a cookie
// could replace or fixate the token cookie of other routes. The name is read as browsers
// read it (RFC 6265bis 5.6), including a nameless cookie whose value spells
// "paddock_traffic_token=...": browsers send that back as a cookie of that name.
func stripTokenCookies(h http.Header) {
	vals := h.Values("Set-Cookie")
	kept := make([]string, 0, len(vals))
	for _, v := range vals {
		if !setsTokenCookie(v) {
			kept = append(kept, v)
		}
	}
	if len(kept) == len(vals) {
		return
	}
	h.Del("Set-Cookie")
	for _, v := range kept {
		h.Add("Set-Cookie", v)
	}
}

// setsTokenCookie reports whether a Set-Cookie value names TokenCookie (in any case).
func setsTokenCookie(v string) bool {
	pair, _, _ := strings.Cut(v, ";")
	name, value, ok := strings.Cut(pair, "=")
	if !ok { // no '=': a nameless cookie whose value is the pair
		name, value = "", pair
	}
	name = strings.Trim(name, " \t")
	if name == "" { // sent back as its bare value: "a=b" reads as cookie a
		name, _, _ = strings.Cut(value, "=")
		name = strings.Trim(name, " \t")
	}
	return strings.EqualFold(name, TokenCookie)
}

// cookieGuard strips token cookies from the 1xx answers (early hints) the proxy relays as
// they arrive, which ModifyResponse never sees. The final answer's headers are the app's
// (stripped by ModifyResponse) plus Paddock's own token cookie (RememberToken), kept.
type cookieGuard struct{ http.ResponseWriter }

func (g cookieGuard) WriteHeader(code int) {
	if code < 200 {
		stripTokenCookies(g.Header())
	}
	g.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController (flush, hijack for upgrades, full duplex) reach the
// real writer.
func (g cookieGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }
