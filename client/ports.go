package client

import (
	"context"
	"strconv"

	"github.com/paddock/paddock/apitype"
)

// PortVisibility is a port's state after SetPortPublic.
type PortVisibility = apitype.PortVisibility

// SetPortPublic makes a sandbox's port reachable through the server without credentials
// (public) or only with the API key or traffic token again. Port 0 stands for every port.
func (c *Client) SetPortPublic(ctx context.Context, name string, port int, public bool) (*PortVisibility, error) {
	method := "DELETE"
	if public {
		method = "PUT"
	}
	var out PortVisibility
	return &out, c.do(ctx, method, "/sandboxes/"+esc(name)+"/public-ports/"+strconv.Itoa(port), nil, &out)
}

// PortURL is the address through which a server listening on port in the sandbox is
// reached: send the API key, or the sandbox's traffic token as ?token= or the
// X-Paddock-Traffic-Token header, unless the port is public.
func (c *Client) PortURL(name string, port int) string {
	return c.BaseURL + "/sandboxes/" + esc(name) + "/ports/" + strconv.Itoa(port) + "/"
}
