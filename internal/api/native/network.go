package native

import (
	"net/http"

	"github.com/paddock/paddock/internal/sandbox"
)

// egressFields are the egress policy fields of create and run requests, and of the network
// update: lists of CIDRs, IP addresses, domain names and "*." wildcards.
type egressFields struct {
	AllowOut []string `json:"allow_out,omitempty"`
	DenyOut  []string `json:"deny_out,omitempty"`
}

func (e egressFields) policy() sandbox.EgressPolicy {
	return sandbox.EgressPolicy{AllowOut: e.AllowOut, DenyOut: e.DenyOut}
}

// setNetwork is PUT /sandboxes/{name}/network: it replaces the egress policy, at once when
// the sandbox runs and at its next start otherwise.
func (a *API) setNetwork(w http.ResponseWriter, r *http.Request) error {
	var req egressFields
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	sb, err := a.m.SetEgress(r.Context(), r.PathValue("name"), req.policy())
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.view(sb))
}
