package client

import (
	"context"

	"github.com/paddock/paddock/apitype"
)

// NetworkPolicy is a sandbox's egress policy: CIDRs, IP addresses, domain names and
// "*." wildcards. The most specific rule wins, deny wins ties; without a match public
// addresses are allowed and private ones are not.
type NetworkPolicy = apitype.NetworkPolicy

// SetNetwork replaces a sandbox's egress policy: at once when it runs, at its next start
// when it is stopped.
func (c *Client) SetNetwork(ctx context.Context, name string, p NetworkPolicy) (*Sandbox, error) {
	var sb Sandbox
	return &sb, c.do(ctx, "PUT", "/sandboxes/"+esc(name)+"/network", p, &sb)
}
