package guestclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
)

// mcpRevision is the revision spoken to the guest's MCP server: stateless, so that the
// guest keeps no session and a kept client session survives nothing but the guest.
const mcpRevision = "2026-07-28"

// ToolResult is what a tool of the guest's MCP server answered: its text content, joined,
// and whether the tool failed.
type ToolResult struct {
	Text    string
	IsError bool
}

// CallTool calls a tool of the guest's in-sandbox MCP server (/mcp) with the official SDK's
// client, over this client's guest connections. An unknown tool or arguments the server
// refuses are errdefs.ErrInvalidArgument (ErrNotFound for the tool) with the server's
// message; a tool that ran and failed is a ToolResult with IsError.
func (c *Client) CallTool(ctx context.Context, name string, args any) (*ToolResult, error) {
	cs, err := c.mcpSession(ctx)
	if err != nil {
		return nil, err
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		c.dropMCP(cs, err)
		return nil, mcpError(ctx, "call tool "+name, err)
	}
	var b strings.Builder
	for _, ct := range res.Content {
		if tc, ok := ct.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return &ToolResult{Text: b.String(), IsError: res.IsError}, nil
}

// ListTools lists the tools of the guest's MCP server.
func (c *Client) ListTools(ctx context.Context) ([]*sdk.Tool, error) {
	cs, err := c.mcpSession(ctx)
	if err != nil {
		return nil, err
	}
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		c.dropMCP(cs, err)
		return nil, mcpError(ctx, "list tools", err)
	}
	return res.Tools, nil
}

// mcpSession is the client's MCP session with the guest, made (server/discover) on first
// use and kept: in the stateless revision it holds no state in the guest, so one call costs
// one round trip.
func (c *Client) mcpSession(ctx context.Context) (*sdk.ClientSession, error) {
	c.mcpMu.Lock()
	defer c.mcpMu.Unlock()
	if c.mcp != nil {
		return c.mcp, nil
	}
	client := sdk.NewClient(&sdk.Implementation{Name: "paddock-host", Version: guestproto.Version}, nil)
	tr := &sdk.StreamableClientTransport{
		Endpoint:             baseURL + "/mcp",
		HTTPClient:           &http.Client{Transport: tokenTransport{base: c.http.Transport, token: c.token}},
		DisableStandaloneSSE: true,
		MaxRetries:           -1, // a stateless call is not resumed
	}
	cs, err := client.Connect(ctx, tr, &sdk.ClientSessionOptions{ProtocolVersion: mcpRevision})
	if err != nil {
		return nil, mcpError(ctx, "connect to the sandbox's MCP server", err)
	}
	c.mcp = cs
	return cs, nil
}

// dropMCP forgets cs after err, unless err is the server's answer: a broken exchange makes
// the next call discover the server again.
func (c *Client) dropMCP(cs *sdk.ClientSession, err error) {
	if werr := (*jsonrpc.Error)(nil); errors.As(err, &werr) {
		return
	}
	c.mcpMu.Lock()
	if c.mcp == cs {
		c.mcp = nil
	}
	c.mcpMu.Unlock()
	_ = cs.Close()
}

// closeMCP closes the kept MCP session.
func (c *Client) closeMCP() {
	c.mcpMu.Lock()
	cs := c.mcp
	c.mcp = nil
	c.mcpMu.Unlock()
	if cs != nil {
		_ = cs.Close()
	}
}

// mcpError classes an error of the MCP exchange: the server's refusals keep their
// message, anything else is the guest being unreachable.
func mcpError(ctx context.Context, op string, err error) error {
	var werr *jsonrpc.Error
	switch {
	case errors.As(err, &werr) && strings.HasPrefix(werr.Message, "unknown tool"):
		return errdefs.NotFound("%s", werr.Message)
	case errors.As(err, &werr) && werr.Code == jsonrpc.CodeInvalidParams:
		return errdefs.InvalidArgument("%s", werr.Message)
	case errors.As(err, &werr):
		return errdefs.Unavailable("%s: %s", op, werr.Message)
	}
	return transportError(ctx, op, fmt.Errorf("%w", err))
}

// tokenTransport adds the sandbox's access token to every request.
type tokenTransport struct {
	base  http.RoundTripper
	token string
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.token != "" {
		r = r.Clone(r.Context())
		r.Header.Set(guestproto.AccessTokenHeader, t.token)
	}
	return t.base.RoundTrip(r)
}
