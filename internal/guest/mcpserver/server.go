// Package mcpserver is the MCP server every sandbox's guest serves at /mcp (Streamable HTTP,
// stateless): run_command, read_file, write_file, list_files and run_code, which act through
// the guest's own process, filesystem and code services. Any image answers MCP this way
// without MCP software of its own; the host reaches it over the guest connection.
package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/toolout"
)

// Path is where the guest serves MCP.
const Path = "/mcp"

// OutputLimit caps the text of one tool answer; a tool whose output is longer says so.
const OutputLimit = toolout.Limit

// Bounds of a command's or cell's timeout.
const (
	DefaultTimeout = 5 * time.Minute
	MaxTimeout     = 24 * time.Hour
)

// Tool names.
const (
	ToolRunCommand = "run_command"
	ToolReadFile   = "read_file"
	ToolWriteFile  = "write_file"
	ToolListFiles  = "list_files"
	ToolRunCode    = "run_code"
)

// Server holds the tools' state: the code contexts run_code keeps. Safe for concurrent use.
type Server struct {
	c   *guestclient.Client
	srv *sdk.Server

	mu       sync.Mutex
	contexts map[string]string // language → code context ID
	// cells serialises run_code per language: a context runs one cell at a time.
	cells map[string]*sync.Mutex
}

// New returns the MCP handler. c reaches the guest's own services (in-process); version
// is what the server calls itself.
func New(c *guestclient.Client, version string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{c: c, contexts: map[string]string{}, cells: map[string]*sync.Mutex{}}
	s.srv = sdk.NewServer(&sdk.Implementation{Name: "paddock-sandbox", Title: "Paddock sandbox tools", Version: version},
		&sdk.ServerOptions{Logger: log, Instructions: "Tools that act inside this sandbox. Output is capped at 64 KiB and says so when cut."})
	for _, t := range s.tools() {
		s.srv.AddTool(t.def, t.handler())
	}
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s.srv }, &sdk.StreamableHTTPOptions{
		Stateless: true, JSONResponse: true, PropagateRequestCancellation: true, Logger: log,
		// The guest checks its access token before this handler; its connections are never
		// a browser's.
		DisableLocalhostProtection: true,
	})
}

// tool is one tool: its definition and what it runs on decoded arguments.
type tool struct {
	def *sdk.Tool
	run func(ctx context.Context, args json.RawMessage) (any, error)
}

// Tools are the definitions of the tools the server has (for hosts that describe them
// without asking a sandbox).
func Tools() []*sdk.Tool {
	var out []*sdk.Tool
	for _, t := range (&Server{}).tools() {
		out = append(out, t.def)
	}
	return out
}

func (s *Server) tools() []tool {
	return []tool{
		{def(ToolRunCommand, "Run a shell command (/bin/sh -c) to its end: exit code, stdout and stderr (at most 64 KiB in all).", schemaFor[commandArgs]()),
			typed(s.runCommand)},
		{def(ToolReadFile, "Read a file (at most 64 KiB; UTF-8 text as is, anything else as base64).", schemaFor[pathArgs]()),
			typed(s.readFile)},
		{def(ToolWriteFile, "Create or replace a file (content as UTF-8 text, or base64 with encoding \"base64\").", schemaFor[writeArgs]()),
			typed(s.writeFile)},
		{def(ToolListFiles, fmt.Sprintf("List a directory (at most %d entries).", maxEntries), schemaFor[listArgs]()),
			typed(s.listFiles)},
		{def(ToolRunCode, "Run code in a code context kept in this sandbox, one per language (state persists between calls). Languages: "+languages()+".", schemaFor[codeArgs]()),
			typed(s.runCode)},
	}
}

func def(name, desc string, schema *jsonschema.Schema) *sdk.Tool {
	return &sdk.Tool{Name: name, Description: desc, InputSchema: schema}
}

// schemaFor is T's JSON schema (T is one of this package's argument types).
func schemaFor[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	return s
}

// typed decodes a tool's arguments strictly (a misspelt argument is refused by name rather
// than ignored) and runs f on them.
func typed[In any](f func(context.Context, In) (any, error)) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in In
		if len(bytes.TrimSpace(raw)) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return nil, fmt.Errorf("arguments: %v", err)
			}
		}
		return f(ctx, in)
	}
}

// handler answers a call with the result as JSON text, or the error's message with
// isError set.
func (t tool) handler() sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		out, err := t.run(ctx, req.Params.Arguments)
		if err != nil {
			return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: err.Error()}}}, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, err
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}}, nil
	}
}
