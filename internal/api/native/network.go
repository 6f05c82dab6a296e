package native

import (
	"net/http"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/sandbox"
)

// egress is the policy of the allow_out and deny_out fields of create and run requests, and
// of the network update: lists of CIDRs, IP addresses, domain names and "*." wildcards.
func egress(allowOut, denyOut []string) sandbox.EgressPolicy {
	return sandbox.EgressPolicy{AllowOut: allowOut, DenyOut: denyOut}
}

// setNetwork is PUT /sandboxes/{name}/network: it replaces the egress policy, at once when
// the sandbox runs and at its next start otherwise.
func (a *API) setNetwork(w http.ResponseWriter, r *http.Request) error {
	var req apitype.NetworkPolicy
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	sb, err := a.m.SetEgress(r.Context(), r.PathValue("name"), egress(req.AllowOut, req.DenyOut))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, a.toSandbox(sb))
}
