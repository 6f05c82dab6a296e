package trinity

import (
	"net/http"

	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
)

// credentialAgent is the agent of a credentials route: only its owner (or an admin) handles
// its secrets, even to see which exist when change is false.
func (a *API) credentialAgent(r *http.Request) (*credential.Service, credential.Agent, error) {
	if a.Credentials == nil {
		return nil, credential.Agent{}, errdefs.Unavailable("credentials are not available on this server")
	}
	ag, err := a.svc.Owned(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, credential.Agent{}, err
	}
	return a.Credentials, CredentialAgent(ag), nil
}

// CredentialAgent is what the credentials service needs to know of an agent.
func CredentialAgent(ag *fleet.Agent) credential.Agent {
	return credential.Agent{ID: ag.ID, Name: ag.Name, Sandbox: ag.SandboxID}
}

func (a *API) credentialStatus(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.credentialAgent(r)
	if err != nil {
		return err
	}
	st, err := svc.Status(r.Context(), ag)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, st)
}

func (a *API) injectCredentials(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.credentialAgent(r)
	if err != nil {
		return err
	}
	var req credential.InjectRequest
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	res, err := svc.Inject(r.Context(), ag, req.Files)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, res)
}

func (a *API) exportCredentials(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.credentialAgent(r)
	if err != nil {
		return err
	}
	res, err := svc.Export(r.Context(), ag)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, res)
}

// importCredentials imports the bundle in the body, or without a body the workspace's
// .credentials.enc (upstream's only form).
func (a *API) importCredentials(w http.ResponseWriter, r *http.Request) error {
	svc, ag, err := a.credentialAgent(r)
	if err != nil {
		return err
	}
	var req credential.ImportRequest
	if err := a.decodeOptional(w, r, &req); err != nil {
		return err
	}
	res, err := svc.Import(r.Context(), ag, req.Bundle)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, res)
}
