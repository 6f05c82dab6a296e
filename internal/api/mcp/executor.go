package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/session"

	fspb "github.com/paddock/paddock/proto/filesystem"
)

// executorArgs are sandboxExecutor's arguments, Agent-Sandbox's SandboxTool.
type executorArgs struct {
	SandboxName string         `json:"sandbox_name" jsonschema:"the name of the Sandbox to execute the Tool in"`
	ToolName    string         `json:"tool_name" jsonschema:"the name of the Tool to execute inside the Sandbox"`
	Arguments   map[string]any `json:"arguments,omitempty" jsonschema:"the arguments of the Tool"`
}

// The arguments of the tools sandboxExecutor runs in a sandbox.
type (
	pathArgs struct {
		Path string `json:"path" jsonschema:"the path in the sandbox"`
	}
	listFilesArgs struct {
		Path  string `json:"path,omitempty" jsonschema:"the directory (default /)"`
		Depth int    `json:"depth,omitempty" jsonschema:"levels to list (default 1, at most 5)"`
	}
	innerWriteArgs struct {
		Path     string `json:"path" jsonschema:"the file's path in the sandbox"`
		Content  string `json:"content" jsonschema:"the file's content"`
		Encoding string `json:"encoding,omitempty" jsonschema:"utf-8 (default) or base64"`
	}
	innerCodeArgs struct {
		Code     string  `json:"code" jsonschema:"the code to run"`
		Language string  `json:"language,omitempty" jsonschema:"the language (default python)"`
		Timeout  float64 `json:"timeout,omitempty" jsonschema:"seconds before the cell is interrupted (default 300)"`
	}
)

// fileEntry is one entry list_files answers.
type fileEntry struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"` // file, dir or symlink
	Size int64  `json:"size"`
}

// maxEntries caps list_files.
const maxEntries = 1000

// executorTools describes the tools sandboxExecutor runs in a sandbox.
func executorTools() []*sdk.Tool {
	tool := func(name, desc string, schema *jsonschema.Schema) *sdk.Tool {
		return &sdk.Tool{Name: name, Description: desc, InputSchema: schema}
	}
	return []*sdk.Tool{
		tool("run_command", "Run a shell command (/bin/sh -c) to its end: exit code, stdout and stderr (at most 64 KiB in all).", schemaFor[commandArgs]()),
		tool("read_file", "Read a file (at most 64 KiB; UTF-8 text as is, anything else as base64).", schemaFor[pathArgs]()),
		tool("write_file", "Create or replace a file.", schemaFor[innerWriteArgs]()),
		tool("list_files", fmt.Sprintf("List a directory (at most %d entries).", maxEntries), schemaFor[listFilesArgs]()),
		tool("run_code", "Run code in a code session kept in this sandbox (state persists between calls). Languages: "+languages()+".", schemaFor[innerCodeArgs]()),
	}
}

// schemaFor is T's JSON schema (T is one of this file's argument types, which always have one).
func schemaFor[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	return s
}

// sandboxExecutor runs one of executorTools in a sandbox, host-side through the manager
// (the guest's process and filesystem services), and answers its result as JSON text.
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
	var out any
	switch in.ToolName {
	case "run_command":
		var a commandArgs
		if err = arguments(in, &a); err == nil {
			out, err = s.execIn(ctx, sb, a)
		}
	case "read_file":
		var a pathArgs
		if err = arguments(in, &a); err == nil {
			out, err = s.readFileIn(ctx, sb, a.Path)
		}
	case "write_file":
		var a innerWriteArgs
		if err = arguments(in, &a); err == nil {
			out, err = s.writeFileIn(ctx, sb, a.Path, writeContent{Content: a.Content, Encoding: a.Encoding})
		}
	case "list_files":
		var a listFilesArgs
		if err = arguments(in, &a); err == nil {
			out, err = s.listFiles(ctx, sb, a)
		}
	case "run_code":
		var a innerCodeArgs
		if err = arguments(in, &a); err == nil {
			// One session per sandbox (by ID: a new sandbox of the same name gets a new
			// one), caller and language.
			if a.Language == "" {
				a.Language = "python"
			}
			req := session.CreateRequest{Name: "mcp-" + sb.ID + "-" + strings.ToLower(a.Language), Language: a.Language,
				Sandbox: sb.ID, Owner: session.OwnerOf(ctx)}
			out, err = s.runCodeIn(ctx, req, codeArgs{Code: a.Code, Language: a.Language, Timeout: a.Timeout})
		}
	default:
		return "", errdefs.NotFound("unknown tool %q in sandbox %s: use run_command, read_file, write_file, list_files or run_code", in.ToolName, sb.Name)
	}
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// arguments decodes the inner tool's arguments strictly: a misspelt argument is refused by
// name rather than ignored.
func arguments(in executorArgs, v any) error {
	b, err := json.Marshal(in.Arguments)
	if err != nil {
		return errdefs.InvalidArgument("arguments: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errdefs.InvalidArgument("arguments of %s: %v", in.ToolName, err)
	}
	return nil
}

// listFiles lists a directory, at most maxEntries entries.
func (s *Server) listFiles(ctx context.Context, sb *sandbox.Sandbox, a listFilesArgs) (any, error) {
	dir := a.Path
	if dir == "" {
		dir = "/"
	}
	if a.Depth < 0 || a.Depth > 5 {
		return nil, errdefs.InvalidArgument("depth must be between 1 and 5")
	}
	infos, err := s.m.ListFiles(ctx, sb.ID, dir, "", uint32(max(a.Depth, 1)))
	if err != nil {
		return nil, err
	}
	type listing struct {
		Path      string      `json:"path"`
		Entries   []fileEntry `json:"entries"`
		Truncated bool        `json:"truncated,omitempty"`
		Note      string      `json:"note,omitempty"`
	}
	out := listing{Path: dir, Entries: []fileEntry{}}
	size := 0 // about what the entries take in JSON
	for i, e := range infos {
		size += len(e.GetName()) + len(e.GetPath()) + 64
		if i == maxEntries || size > OutputLimit {
			out.Truncated = true
			out.Note = fmt.Sprintf("listing truncated: %d of %d entries shown (at most %d, or 64 KiB)", i, len(infos), maxEntries)
			break
		}
		out.Entries = append(out.Entries, fileEntry{Name: e.GetName(), Path: e.GetPath(), Type: entryType(e.GetType()), Size: e.GetSize()})
	}
	return out, nil
}

func entryType(t fspb.FileType) string {
	switch t {
	case fspb.FileType_FILE_TYPE_DIRECTORY:
		return "dir"
	case fspb.FileType_FILE_TYPE_SYMLINK:
		return "symlink"
	}
	return "file"
}
