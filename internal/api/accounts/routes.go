// Package accounts is the HTTP surface of users, API keys and logins: the admin API at
// /users, self-service at /me and the OAuth2 password login at /api/token. It answers with
// the native {"success","data","error"} envelope, except /api/token, which answers as
// FastAPI's OAuth2 flow does.
package accounts

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// API serves the accounts surface. Safe for concurrent use.
type API struct {
	svc     *account.Service
	maxBody int64
	log     *slog.Logger
	sbs     Sandboxes        // nil: no share or quota routes answer
	store   manager.Accounts // shares and quota overrides
	audit   *audit.Recorder  // share and quota changes
}

// Sandboxes is what the share and quota routes need of the manager.
type Sandboxes interface {
	Authorize(ctx context.Context, idOrName string, need manager.Access) (*sandbox.Sandbox, error)
	QuotaOf(ctx context.Context, userID string) (account.Quota, error)
	UsageOf(ctx context.Context, userID string) (manager.Usage, error)
}

// WithSandboxes enables sharing and quotas: sbs checks who may act on a sandbox, store keeps
// shares and quota overrides.
func (a *API) WithSandboxes(sbs Sandboxes, store manager.Accounts, rec *audit.Recorder) *API {
	a.sbs, a.store, a.audit = sbs, store, rec
	return a
}

// New returns the surface over svc.
func New(svc *account.Service, maxBody int64, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, maxBody: maxBody, log: log}
}

// TokenPath is the login route; it needs no credential.
const TokenPath = "/api/token"

// Routes lists every route of this surface; the OpenAPI test checks the document against it.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"POST " + TokenPath:                       a.login,
		"GET /me":                                 a.me,
		"PUT /me/password":                        a.changePassword,
		"GET /me/keys":                            a.listMyKeys,
		"POST /me/keys":                           a.createMyKey,
		"DELETE /me/keys/{id}":                    a.revokeMyKey,
		"POST /users":                             a.admin(a.createUser),
		"GET /users":                              a.admin(a.listUsers),
		"GET /users/{email}":                      a.admin(a.getUser),
		"PATCH /users/{email}":                    a.admin(a.updateUser),
		"DELETE /users/{email}":                   a.admin(a.deleteUser),
		"POST /users/{email}/keys":                a.admin(a.createUserKey),
		"GET /users/{email}/keys":                 a.admin(a.listUserKeys),
		"DELETE /users/{email}/keys/{id}":         a.admin(a.revokeUserKey),
		"PUT /users/{email}/quota":                a.admin(a.setQuota),
		"GET /users/{email}/quota":                a.admin(a.getQuota),
		"POST /sandboxes/{name}/shares":           a.share,
		"GET /sandboxes/{name}/shares":            a.listShares,
		"DELETE /sandboxes/{name}/shares/{email}": a.unshare,
	}
}

// Register mounts every route on mux.
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: native.WriteError}
	for pattern, h := range a.Routes() {
		if pattern == "POST "+TokenPath {
			mux.Handle(pattern, httpx.Adapter{Log: a.log, Write: writeDetail}.Wrap(h))
			continue
		}
		mux.Handle(pattern, ad.Wrap(h))
	}
}

// writeDetail is FastAPI's error shape, which OAuth2 password-flow clients read.
func writeDetail(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	httpx.WriteJSON(w, status, map[string]string{"detail": msg})
}
