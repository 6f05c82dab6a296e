package e2b

import (
	"net/http"
	"slices"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// allTraffic is E2B's "deny everything" entry: with it, only allowOut entries get out.
const allTraffic = "0.0.0.0/0"

// networkConfig is E2B's SandboxNetworkConfig, the create request's network object: every
// field the SDKs send (decoded strictly). refuseUnsupported names those Paddock cannot honour.
type networkConfig struct {
	AllowOut           []string `json:"allowOut"`
	DenyOut            []string `json:"denyOut"`
	AllowPublicTraffic *bool    `json:"allowPublicTraffic"`
	MaskRequestHost    *string  `json:"maskRequestHost"`
	HTTPSPorts         []int    `json:"httpsPorts"`
	EgressProxy        any      `json:"egressProxy"`
	Rules              any      `json:"rules"`
}

// networkUpdate is SandboxNetworkUpdateConfig, the body of PUT /sandboxes/{id}/network.
type networkUpdate struct {
	AllowOut            []string `json:"allowOut"`
	DenyOut             []string `json:"denyOut"`
	EgressProxy         any      `json:"egressProxy"`
	Rules               any      `json:"rules"`
	AllowInternetAccess *bool    `json:"allow_internet_access"`
	// AllowInternetAccessCamel is Agent-Sandbox's spelling of allow_internet_access.
	AllowInternetAccessCamel *bool `json:"allowInternetAccess"`
}

// networkView is what the detail shows of a sandbox's network.
type networkView struct {
	AllowOut []string `json:"allowOut"`
	DenyOut  []string `json:"denyOut"`
}

// refuseUnsupported refuses the network options that would otherwise be silently ignored.
func (n networkConfig) refuseUnsupported() error {
	switch {
	case n.MaskRequestHost != nil:
		return errdefs.InvalidArgument("network.maskRequestHost is not supported: requests reach the sandbox's ports with their own Host header")
	case len(n.HTTPSPorts) > 0:
		return errdefs.InvalidArgument("network.httpsPorts is not supported: Paddock reaches the sandbox's ports over plain HTTP")
	}
	return refuseEgressExtras(n.EgressProxy, n.Rules)
}

func refuseEgressExtras(proxy, rules any) error {
	if !isNull(proxy) || !isNull(rules) {
		return errdefs.InvalidArgument("network.egressProxy and network.rules are not supported yet")
	}
	return nil
}

// policy turns E2B's lists and allow_internet_access into an egress policy: no internet
// access is E2B's deny-all entry, which allowOut entries (being more specific) still pass.
func policy(allowOut, denyOut []string, allowInternet *bool) sandbox.EgressPolicy {
	p := sandbox.EgressPolicy{AllowOut: allowOut, DenyOut: denyOut}
	if allowInternet != nil && !*allowInternet && !slices.Contains(p.DenyOut, allTraffic) {
		p.DenyOut = append(slices.Clone(p.DenyOut), allTraffic)
	}
	return p
}

func (n networkConfig) policy(allowInternet *bool) (sandbox.EgressPolicy, error) {
	if err := n.refuseUnsupported(); err != nil {
		return sandbox.EgressPolicy{}, err
	}
	return policy(n.AllowOut, n.DenyOut, allowInternet), nil
}

// isNull reports whether an untyped JSON value is absent or empty (null, {}, []).
func isNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// networkOf is what the detail shows of a sandbox's network.
func networkOf(sb *sandbox.Sandbox) (*bool, *networkView) {
	if sb.Instance.Network != sandbox.NetworkEgress {
		no := false
		return &no, nil
	}
	p := sb.Instance.Egress
	internet := !slices.Contains(p.DenyOut, allTraffic)
	return &internet, &networkView{AllowOut: nonNil(p.AllowOut), DenyOut: nonNil(p.DenyOut)}
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
	var req networkUpdate
	if err := httpx.Decode(w, r, &req, a.maxBody, true, true); err != nil {
		return err
	}
	if err := refuseEgressExtras(req.EgressProxy, req.Rules); err != nil {
		return err
	}
	internet, err := internetAccess(req.AllowInternetAccess, req.AllowInternetAccessCamel)
	if err != nil {
		return err
	}
	if _, err := a.m.SetEgress(r.Context(), sb.ID, policy(req.AllowOut, req.DenyOut, internet)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
