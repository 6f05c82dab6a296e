package manager

import (
	"context"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/guest/mcpserver"
	"github.com/paddock/paddock/internal/guestclient"
)

// SandboxTools describes the tools of the MCP server every sandbox's guest serves (the
// guest is this binary, so its list is known without asking a sandbox).
func SandboxTools() []*sdk.Tool { return mcpserver.Tools() }

// auditToolCalled is the audit event of a call to a tool of a sandbox's MCP server.
const auditToolCalled = "sandbox_tool_called"

// ToolResult is what a tool of a sandbox's MCP server answered: its text, and whether the
// tool failed (the text then says why).
type ToolResult = guestclient.ToolResult

// CallSandboxTool calls a tool of the MCP server the guest of a running sandbox serves
// (run_command, read_file, write_file, list_files, run_code) with args, and records the
// call. An unknown tool is ErrNotFound and refused arguments ErrInvalidArgument, with the
// sandbox server's message; a tool that ran and failed is a result with IsError.
func (m *Manager) CallSandboxTool(ctx context.Context, idOrName, tool string, args map[string]any) (*ToolResult, error) {
	sb, err := m.running(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	res, err := m.client(sb).CallTool(ctx, tool, args)
	if err != nil {
		return nil, m.processLost(ctx, sb.ID, err)
	}
	m.record(context.WithoutCancel(ctx), auditToolCalled, sb.Name, map[string]any{"tool": tool, "is_error": res.IsError,
		"duration_ms": time.Since(began).Milliseconds()})
	return res, nil
}
