package mcp

import (
	"context"
	"fmt"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/toolout"
)

// executorArgs are sandboxExecutor's arguments, Agent-Sandbox's SandboxTool.
type executorArgs struct {
	SandboxName string         `json:"sandbox_name" jsonschema:"the name of the Sandbox to execute the Tool in"`
	ToolName    string         `json:"tool_name" jsonschema:"the name of the Tool to execute inside the Sandbox"`
	Arguments   map[string]any `json:"arguments,omitempty" jsonschema:"the arguments of the Tool"`
}

// maxForwarded caps the text sandboxExecutor passes on from a sandbox's tool. The sandbox's
// tools keep their output within OutputLimit themselves; their JSON escaping can make the
// answer longer, and the sandbox is not trusted to keep its word.
const maxForwarded = 4 * OutputLimit

// executorTools describes the tools of the MCP server in every sandbox (the guest's).
func executorTools() []*sdk.Tool { return manager.SandboxTools() }

// sandboxExecutor calls a tool of the MCP server the sandbox's guest serves (as Agent-Sandbox
// calls the MCP server in its sandbox image), through the manager over the guest connection,
// and answers the tool's text.
func (s *Server) sandboxExecutor(ctx context.Context, in executorArgs) (string, error) {
	if in.SandboxName == "" {
		return "", errdefs.InvalidArgument("sandbox_name is required")
	}
	if in.ToolName == "" {
		return "", errdefs.InvalidArgument("tool_name is required")
	}
	sb, err := s.sandboxNamed(ctx, in.SandboxName)
	if err != nil {
		return "", err
	}
	args := in.Arguments
	if args == nil {
		args = map[string]any{}
	}
	res, err := s.m.CallSandboxTool(ctx, sb.ID, in.ToolName, args)
	switch {
	case errdefs.IsNotFound(err):
		return "", errdefs.NotFound("%v in sandbox %s: use run_command, read_file, write_file, list_files or run_code", err, sb.Name)
	case err != nil:
		return "", err
	}
	text := res.Text
	if len(text) > maxForwarded {
		text = toolout.CutString(text, maxForwarded) + fmt.Sprintf("\n[output truncated by paddock: the sandbox's tool answered %d bytes, at most %d are passed on]",
			len(res.Text), maxForwarded)
	}
	if res.IsError {
		return "", errdefs.New(errdefs.ErrFailedPrecondition, "%s", text)
	}
	return text, nil
}
