package trinity

import (
	"net/http"
)

func (a *API) share(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email string `json:"email"`
	}
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	sh, err := a.svc.ShareWith(r.Context(), r.PathValue("name"), req.Email)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, sh)
}

func (a *API) unshare(w http.ResponseWriter, r *http.Request) error {
	email := r.PathValue("email")
	if err := a.svc.Unshare(r.Context(), r.PathValue("name"), email); err != nil {
		return err
	}
	return ok(w, http.StatusOK, message{"Sharing removed for " + email})
}

func (a *API) shares(w http.ResponseWriter, r *http.Request) error {
	shs, err := a.svc.Shares(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, shs)
}
