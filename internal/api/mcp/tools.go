package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tool names: Agent-Sandbox's, then Paddock's own.
const (
	ToolCreateSandbox   = "createSandbox"
	ToolGetSandbox      = "getSandbox"
	ToolListSandbox     = "listSandbox"
	ToolDeleteSandbox   = "deleteSandbox"
	ToolSandboxExecutor = "sandboxExecutor"
	ToolRun             = "run"
	ToolExec            = "exec"
	ToolReadFile        = "read_file"
	ToolWriteFile       = "write_file"
	ToolRunCode         = "run_code"
)

// addTools adds every tool.
func (s *Server) addTools() {
	s.addTemplateTools()
	textTool(s, &sdk.Tool{Name: ToolGetSandbox, Description: "Get the details of a Sandbox by name, and the Tools sandboxExecutor runs in it."}, s.getSandbox)
	textTool(s, &sdk.Tool{Name: ToolListSandbox, Description: "List the Sandboxes: name, id, template, image, status, timeout and times."}, s.listSandbox)
	textTool(s, &sdk.Tool{Name: ToolDeleteSandbox, Description: "Delete a Sandbox by name. Best practice to delete the Sandbox after all tasks are done to free resources."}, s.deleteSandbox)
	textTool(s, &sdk.Tool{Name: ToolSandboxExecutor, Description: "Execute a Tool inside the Sandbox: run_command, read_file, write_file, list_files or run_code, " +
		"with its arguments (see createSandbox or getSandbox for their schemas)."}, s.sandboxExecutor)
	structTool(s, &sdk.Tool{Name: ToolExec, Description: "Run a shell command (/bin/sh -c) in an existing sandbox to its end; " +
		"answers exit code, stdout and stderr (at most 64 KiB in all)."}, s.exec)
	structTool(s, &sdk.Tool{Name: ToolReadFile, Description: "Read a file of a sandbox (at most 64 KiB; UTF-8 text as is, anything else as base64)."}, s.readFile)
	structTool(s, &sdk.Tool{Name: ToolWriteFile, Description: "Create or replace a file in a sandbox (content as UTF-8 text, or base64 with encoding \"base64\")."}, s.writeFile)
	structTool(s, &sdk.Tool{Name: ToolRunCode, Description: "Run code in a persistent code session (variables, imports and files stay between calls " +
		"of the same session); the session gets a sandbox of its own on first use. Languages: " + languages() + "."}, s.runCode)
}

// addTemplateTools adds (or replaces, when the templates change) the tools whose
// descriptions list the templates; clients that listen are told the list changed.
func (s *Server) addTemplateTools() {
	ts := s.templatesText()
	textTool(s, &sdk.Tool{Name: ToolCreateSandbox, Description: "Create a new Sandbox for executing commands, python or javascript code, etc. " +
		"Returns the schemas of the Tools to use with sandboxExecutor. Available environments (templates):\n" + ts}, s.createSandbox)
	structTool(s, &sdk.Tool{Name: ToolRun, Description: "Run one shell command (/bin/sh -c) in a fresh sandbox that is deleted afterwards; " +
		"answers exit code, stdout and stderr (at most 64 KiB in all). Templates:\n" + ts}, s.run)
}

// textTool adds a tool that answers text, as Agent-Sandbox's tools do.
func textTool[In any](s *Server, t *sdk.Tool, h func(context.Context, In) (string, error)) {
	sdk.AddTool(s.srv, t, func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, any, error) {
		ctx = callContext(ctx, req.Extra)
		text, err := h(ctx, in)
		if err != nil {
			return nil, nil, s.public(ctx, t.Name, err)
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, nil, nil
	})
}

// structTool adds a tool that answers structured content (and its JSON as text).
func structTool[In, Out any](s *Server, t *sdk.Tool, h func(context.Context, In) (Out, error)) {
	sdk.AddTool(s.srv, t, func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		ctx = callContext(ctx, req.Extra)
		out, err := h(ctx, in)
		if err != nil {
			var zero Out
			return nil, zero, s.public(ctx, t.Name, err)
		}
		return nil, out, nil
	})
}

// generatedName is prefix and a random suffix.
func generatedName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
