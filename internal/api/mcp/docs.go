package mcp

import "github.com/paddock/paddock/internal/api/openapi"

// Operations documents the endpoint for the OpenAPI document (its messages are MCP's
// JSON-RPC, described in docs/mcp.md).
func (s *Server) Operations() []openapi.Operation {
	const desc = "MCP Streamable HTTP (revisions 2025-06-18, 2025-11-25 and 2026-07-28); see docs/mcp.md for the tools. " +
		"sandboxExecutor calls the tools of the MCP server every sandbox's guest serves (run_command, read_file, write_file, list_files, run_code)."
	return []openapi.Operation{
		{Pattern: "POST " + Path, Tag: "mcp", Summary: "Send MCP JSON-RPC messages; answered as JSON or an event stream", Description: desc, Stream: true},
		{Pattern: "GET " + Path, Tag: "mcp", Summary: "A session's server-to-client event stream (session-based revisions)", Description: desc, Stream: true},
		{Pattern: "DELETE " + Path, Tag: "mcp", Summary: "End an MCP session (session-based revisions)", Description: desc},
	}
}
