package trinity

import (
	"net/http"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sshgate"
)

// sshAccess grants a time-limited key for the SSH gateway: the given ssh-ed25519 public key,
// or a pair generated here whose private key is answered once. The agent's owner (or an
// admin) only; 503 when the server runs no gateway.
func (a *API) sshAccess(w http.ResponseWriter, r *http.Request) error {
	ag, err := a.svc.Owned(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if a.SSH == nil {
		return errdefs.Unavailable("SSH access is disabled: start paddock serve with --ssh-listen")
	}
	req := sshgate.NewAccessRequest()
	if err := a.decodeOptional(w, r, &req); err != nil {
		return err
	}
	res, err := a.SSH.Access(r.Context(), ag.ID, ag.Name, a.SSHAddr, req)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, res)
}
