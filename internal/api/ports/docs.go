package ports

import (
	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/openapi"
)

// methods are the methods documented for the proxy routes, which accept any.
var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Operations documents the surface for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	q := []openapi.Param{{Name: TokenQuery, Type: "string",
		Description: "the sandbox's traffic token, instead of the API key or the " + TokenHeader + " header"}}
	proxied := []struct{ path, summary string }{
		{"/sandboxes/{name}/ports/{port}/{path...}", "Reach a server listening on port inside the sandbox (HTTP and WebSocket, any method)"},
		{"/sandbox/{name}/{path...}", "Agent-Sandbox: reach the sandbox's server on ?port=, else its application port (default 8080)"},
		{"/sandboxes/router/{sandboxID}/{port}/{path...}", "Agent-Sandbox path router: reach port of the sandbox with this ID or name"},
	}
	desc := "Access: the API key, the sandbox's traffic token (" + TokenHeader + ", " + E2BTokenHeader +
		" or ?token=, which also sets a cookie scoped to the route), or nothing when the port is public. " +
		"400 for a port outside 1-65535, 401 without access, 404 unknown sandbox, 409 not running, 502 nothing listening."
	var ops []openapi.Operation
	for _, p := range proxied {
		for _, m := range methods {
			ops = append(ops, openapi.Operation{Pattern: m + " " + p.path, Tag: "ports", Summary: p.summary,
				Description: desc, Query: q})
		}
	}
	return append(ops,
		openapi.Operation{Pattern: "PUT /sandboxes/{name}/public-ports/{port}", Tag: "ports",
			Summary: "Make a port public: reachable without the API key or traffic token (port 0: every port)", Response: apitype.PortVisibility{}},
		openapi.Operation{Pattern: "DELETE /sandboxes/{name}/public-ports/{port}", Tag: "ports",
			Summary: "Make a port private again (port 0: clear 'every port')", Response: apitype.PortVisibility{}},
	)
}
