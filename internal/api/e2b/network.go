package e2b

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// allTraffic is E2B's "deny everything" entry: with it, only allowOut entries get out.
const allTraffic = "0.0.0.0/0"

// networkConfig is E2B's SandboxNetworkConfig (create) and SandboxNetworkUpdateConfig
// (PUT /sandboxes/{id}/network), as far as Paddock reads it.
type networkConfig struct {
	AllowOut            []string `json:"allowOut"`
	DenyOut             []string `json:"denyOut"`
	AllowPublicTraffic  *bool    `json:"allowPublicTraffic,omitempty"`
	MaskRequestHost     *string  `json:"maskRequestHost,omitempty"`
	EgressProxy         any      `json:"egressProxy,omitempty"`
	Rules               any      `json:"rules,omitempty"`
	AllowInternetAccess *bool    `json:"allow_internet_access,omitempty"`
}

// parseNetwork reads the create request's network object (untyped on newSandbox).
func parseNetwork(raw any) (networkConfig, error) {
	var n networkConfig
	if raw == nil {
		return n, nil
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &n)
	}
	if err != nil {
		return n, errdefs.InvalidArgument("network: %v", err)
	}
	return n, nil
}

// policy turns E2B's lists and allow_internet_access into an egress policy: no internet
// access is E2B's deny-all entry, which allowOut entries (being more specific) still pass.
func (n networkConfig) policy(allowInternet *bool) (sandbox.EgressPolicy, error) {
	if !isNull(n.EgressProxy) || !isNull(n.Rules) {
		return sandbox.EgressPolicy{}, errdefs.InvalidArgument("network.egressProxy and network.rules are not supported yet")
	}
	p := sandbox.EgressPolicy{AllowOut: n.AllowOut, DenyOut: n.DenyOut}
	if allowInternet != nil && !*allowInternet && !slices.Contains(p.DenyOut, allTraffic) {
		p.DenyOut = append(slices.Clone(p.DenyOut), allTraffic)
	}
	return p, nil
}

func isNull(v any) bool {
	b, _ := json.Marshal(v)
	return string(b) == "null" || string(b) == "{}" || string(b) == "[]"
}

// networkView is what detail shows of a sandbox's network.
func networkView(sb *sandbox.Sandbox) (*bool, *networkConfig) {
	if sb.Instance.Network != sandbox.NetworkEgress {
		no := false
		return &no, nil
	}
	p := sb.Instance.Egress
	internet := !slices.Contains(p.DenyOut, allTraffic)
	return &internet, &networkConfig{AllowOut: nonNil(p.AllowOut), DenyOut: nonNil(p.DenyOut)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// setNetwork is PUT /sandboxes/{id}/network: the new lists replace the old (204).
func (a *API) setNetwork(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.e2bSandbox(r)
	if err != nil {
		return err
	}
	var req networkConfig
	if err := httpx.Decode(w, r, &req, a.maxBody, false, true); err != nil {
		return err
	}
	p, err := req.policy(req.AllowInternetAccess)
	if err != nil {
		return err
	}
	if _, err := a.m.SetEgress(r.Context(), sb.ID, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
