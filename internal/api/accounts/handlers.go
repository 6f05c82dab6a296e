package accounts

import (
	"net/http"
	"strings"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
)

// maxKeyLife bounds expires_in (ten years).
const maxKeyLife = 10 * 365 * 24 * time.Hour

type envelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data,omitempty"`
}

func ok(w http.ResponseWriter, status int, data any) error {
	httpx.WriteJSON(w, status, envelope{Success: true, Data: data})
	return nil
}

// caller is the request's identity. A server without authentication has none: the
// caller is then trusted as an admin, as every request was before there were users.
func caller(r *http.Request) (account.Identity, bool) {
	return account.IdentityFrom(r.Context())
}

// admin lets only admins (and a server without authentication) through: a user gets 403.
func (a *API) admin(h httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if id, ok := caller(r); ok && !id.IsAdmin() {
			return errdefs.New(errdefs.ErrPermissionDenied, "this route needs the admin role")
		}
		return h(w, r)
	}
}

// self is the caller's user ID; a server without authentication has no current user.
func self(r *http.Request) (string, error) {
	id, ok := caller(r)
	if !ok {
		return "", errdefs.FailedPrecondition("this server runs without authentication (--no-auth): there is no current user")
	}
	return id.UserID, nil
}

func userView(u *account.User) apitype.User {
	return apitype.User{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled,
		HasPassword: u.PasswordHash != "", CreatedAt: u.CreatedAt}
}

func keyView(k *account.Key) apitype.APIKey {
	return apitype.APIKey{ID: k.ID, UserID: k.UserID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt}
}

func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	return httpx.Decode(w, r, v, a.maxBody, true, allowEmpty)
}

// login is OAuth2's password flow: a form with username (the email) and password.
func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, a.maxBody)
	if err := r.ParseForm(); err != nil {
		return errdefs.InvalidArgument("want a form (application/x-www-form-urlencoded) with username and password")
	}
	if gt := r.PostForm.Get("grant_type"); gt != "" && gt != "password" {
		return errdefs.InvalidArgument("grant_type %q: only password is supported", gt)
	}
	email, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	if email == "" || password == "" {
		return errdefs.InvalidArgument("username (the email) and password are required")
	}
	token, exp, err := a.svc.Login(r.Context(), email, password)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, apitype.Token{AccessToken: token, TokenType: "bearer",
		ExpiresIn: int64(time.Until(exp).Round(time.Second).Seconds())})
	return nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	id, err := self(r)
	if err != nil {
		return err
	}
	u, err := a.svc.GetUser(r.Context(), id)
	if err != nil {
		return err
	}
	ident, _ := caller(r)
	me := apitype.Me{User: userView(u), KeyID: ident.KeyID}
	if a.sbs != nil && !ident.IsAdmin() {
		q, use, err := a.quotaAndUse(r.Context(), u.ID)
		if err != nil {
			return err
		}
		me.Quota, me.Usage = &q, &use
	}
	return ok(w, http.StatusOK, me)
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	id, err := self(r)
	if err != nil {
		return err
	}
	var req apitype.PasswordRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	if err := a.svc.ChangePassword(r.Context(), id, req.CurrentPassword, req.Password); err != nil {
		return err
	}
	return ok(w, http.StatusOK, nil)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var req apitype.CreateUserRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), account.NewUser{Email: req.Email, Name: req.Name,
		Role: account.Role(req.Role), Password: req.Password})
	if err != nil {
		return err
	}
	return ok(w, http.StatusCreated, userView(u))
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := a.svc.ListUsers(r.Context())
	if err != nil {
		return err
	}
	out := make([]apitype.User, 0, len(users))
	for _, u := range users {
		out = append(out, userView(u))
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.svc.UserByEmail(r.Context(), r.PathValue("email"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, userView(u))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	var req apitype.UpdateUserRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	p := account.Patch{Name: req.Name, Disabled: req.Disabled, Password: req.Password}
	if req.Role != nil {
		role := account.Role(*req.Role)
		p.Role = &role
	}
	u, err := a.svc.UpdateUser(r.Context(), r.PathValue("email"), p)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, userView(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteUser(r.Context(), r.PathValue("email")); err != nil {
		return err
	}
	return ok(w, http.StatusOK, nil)
}

// userID resolves the {email} of an admin route.
func (a *API) userID(r *http.Request) (string, error) {
	u, err := a.svc.UserByEmail(r.Context(), r.PathValue("email"))
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, userID string) error {
	var req apitype.CreateKeyRequest
	if err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	life, err := httpx.Seconds("expires_in", req.ExpiresIn, maxKeyLife)
	if err != nil {
		return err
	}
	secret, k, err := a.svc.CreateKey(r.Context(), userID, strings.TrimSpace(req.Name), life)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return ok(w, http.StatusCreated, apitype.NewAPIKey{APIKey: keyView(k), Key: secret})
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, userID string) error {
	keys, err := a.svc.ListKeys(r.Context(), userID)
	if err != nil {
		return err
	}
	out := make([]apitype.APIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyView(k))
	}
	return ok(w, http.StatusOK, out)
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, userID string) error {
	if err := a.svc.RevokeKey(r.Context(), userID, r.PathValue("id")); err != nil {
		return err
	}
	return ok(w, http.StatusOK, nil)
}

// forSelf and forUser run a key handler for the caller or for the {email} of the route.
func (a *API) forSelf(h func(http.ResponseWriter, *http.Request, string) error) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := self(r)
		if err != nil {
			return err
		}
		return h(w, r, id)
	}
}

func (a *API) forUser(h func(http.ResponseWriter, *http.Request, string) error) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := a.userID(r)
		if err != nil {
			return err
		}
		return h(w, r, id)
	}
}

func (a *API) listMyKeys(w http.ResponseWriter, r *http.Request) error {
	return a.forSelf(a.listKeys)(w, r)
}
func (a *API) createMyKey(w http.ResponseWriter, r *http.Request) error {
	return a.forSelf(a.createKey)(w, r)
}
func (a *API) revokeMyKey(w http.ResponseWriter, r *http.Request) error {
	return a.forSelf(a.revokeKey)(w, r)
}
func (a *API) createUserKey(w http.ResponseWriter, r *http.Request) error {
	return a.forUser(a.createKey)(w, r)
}
func (a *API) listUserKeys(w http.ResponseWriter, r *http.Request) error {
	return a.forUser(a.listKeys)(w, r)
}
func (a *API) revokeUserKey(w http.ResponseWriter, r *http.Request) error {
	return a.forUser(a.revokeKey)(w, r)
}
