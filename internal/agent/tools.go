package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// Tool names.
const (
	ToolBash      = "bash"
	ToolReadFile  = "read_file"
	ToolWriteFile = "write_file"
	ToolEditFile  = "edit_file"
	ToolListFiles = "list_files"
)

// Limits of the tools.
const (
	OutputCap          = 32 << 10 // bytes of each of a command's stdout and stderr the model sees
	ReadCap            = 256 << 10
	ListCap            = 500 // entries
	DefaultBashTimeout = 2 * time.Minute
	MaxBashTimeout     = 10 * time.Minute
)

// Sandbox is where the tools run. Implementations go through the manager, which audits
// commands and file access. Safe for concurrent use.
type Sandbox interface {
	// Exec runs a shell command in dir, capturing at most limit bytes of each stream.
	Exec(ctx context.Context, shell, dir string, timeout time.Duration, limit int) (ExecResult, error)
	// ReadFile returns at most limit bytes of a file and whether it was longer.
	ReadFile(ctx context.Context, path string, limit int64) ([]byte, bool, error)
	WriteFile(ctx context.Context, path string, data []byte) error
	// List returns a directory's entries (directories end with "/").
	List(ctx context.Context, path string) ([]string, error)
}

// ExecResult is how a command ended.
type ExecResult struct {
	ExitCode       int
	Stdout, Stderr []byte
	TimedOut       bool
	Truncated      bool
}

var toolSpecs = append([]ToolSpec{
	{Name: ToolBash, Description: "Run a shell command (/bin/sh -c) in the sandbox's workspace; returns exit code, stdout and stderr.",
		Schema: object(map[string]any{
			"command": prop("string", "the shell command"),
			"timeout": prop("integer", "seconds before the command is killed (default 120, at most 600)"),
		}, "command")},
	{Name: ToolReadFile, Description: "Read a text file (paths are relative to the workspace unless absolute).",
		Schema: object(map[string]any{"path": prop("string", "the file")}, "path")},
	{Name: ToolWriteFile, Description: "Create or replace a file with content.",
		Schema: object(map[string]any{"path": prop("string", "the file"), "content": prop("string", "the new content")}, "path", "content")},
	{Name: ToolEditFile, Description: "Replace the one occurrence of old_string in a file with new_string (exact match).",
		Schema: object(map[string]any{
			"path":       prop("string", "the file"),
			"old_string": prop("string", "text that occurs exactly once in the file"),
			"new_string": prop("string", "its replacement"),
		}, "path", "old_string", "new_string")},
	{Name: ToolListFiles, Description: "List a directory (default: the workspace); directories end with /.",
		Schema: object(map[string]any{"path": prop("string", "the directory")})},
}, codeSpecs...)

func object(props map[string]any, required ...string) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func prop(typ, desc string) map[string]any { return map[string]any{"type": typ, "description": desc} }

// ToolNames lists every tool, sorted.
func ToolNames() []string {
	out := make([]string, 0, len(toolSpecs))
	for _, s := range toolSpecs {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// CheckTools refuses names that are no tool, naming the field.
func CheckTools(names []string) error {
	for i, n := range names {
		if _, ok := specNamed(n); !ok {
			return errdefs.InvalidArgument("allowedTools[%d]: unknown tool %q (tools: %s)", i, n, strings.Join(ToolNames(), ", "))
		}
	}
	return nil
}

func specNamed(name string) (ToolSpec, bool) {
	for _, s := range toolSpecs {
		if s.Name == name {
			return s, true
		}
	}
	return ToolSpec{}, false
}

// Toolbox runs tool calls in one sandbox. Its zero Allowed means every tool.
type Toolbox struct {
	Box     Sandbox
	Dir     string   // the workspace: relative paths resolve here, commands run here
	Allowed []string // nil = all tools
	// Code runs run_code's cells; nil leaves run_code out of the tools offered.
	Code Interpreter
	// OnCall, when set, is told of every call once it ended (the audit trail).
	OnCall func(ctx context.Context, call ToolCall, isError bool, dur time.Duration)
}

// Specs are the tools the model is offered.
func (tb *Toolbox) Specs() []ToolSpec {
	var out []ToolSpec
	for _, s := range toolSpecs {
		if tb.allowed(s.Name) && (s.Name != ToolRunCode || tb.Code != nil) {
			out = append(out, s)
		}
	}
	return out
}

func (tb *Toolbox) allowed(name string) bool {
	if tb.Allowed == nil {
		return true
	}
	for _, a := range tb.Allowed {
		if a == name {
			return true
		}
	}
	return false
}

// Outcome is what a tool call produced: the text the model gets, and what else the caller
// reports (a command's stderr, a file written).
type Outcome struct {
	Content string
	IsError bool
	Stderr  string
	File    *FileOut
}

// FileOut is a file a tool wrote, with its new content.
type FileOut struct {
	Path    string
	Content []byte
}

// errTool is a failure the model should see and may correct (bad input, missing file).
type errTool struct{ msg string }

func (e errTool) Error() string { return e.msg }

func toolErr(format string, args ...any) error { return errTool{fmt.Sprintf(format, args...)} }

// Call runs one tool call. Failures the model can act on come back as an error outcome; the
// returned error is the sandbox failing (the run cannot go on).
func (tb *Toolbox) Call(ctx context.Context, call ToolCall) (out Outcome, err error) {
	start := time.Now()
	defer func() {
		if tb.OnCall != nil {
			tb.OnCall(ctx, call, out.IsError || err != nil, time.Since(start))
		}
	}()
	if !tb.allowed(call.Name) {
		return Outcome{Content: fmt.Sprintf("tool %q is not allowed in this run", call.Name), IsError: true}, nil
	}
	out, err = tb.call(ctx, call)
	var te errTool
	switch {
	case errors.As(err, &te):
		return Outcome{Content: te.msg, IsError: true}, nil
	case errdefs.IsNotFound(err), errors.Is(err, errdefs.ErrInvalidArgument),
		errors.Is(err, errdefs.ErrPermissionDenied), errors.Is(err, errdefs.ErrAlreadyExists):
		return Outcome{Content: publicPart(err), IsError: true}, nil
	}
	return out, err
}

func publicPart(err error) string {
	if msg, ok := errdefs.PublicMessage(err); ok {
		return msg
	}
	return err.Error()
}

func (tb *Toolbox) call(ctx context.Context, call ToolCall) (Outcome, error) {
	var in struct {
		Command   string `json:"command"`
		Timeout   int    `json:"timeout"`
		Path      string `json:"path"`
		Content   string `json:"content"`
		OldString string `json:"old_string"`
		NewString string `json:"new_string"`
		Code      string `json:"code"`
		Language  string `json:"language"`
		URL       string `json:"url"`
	}
	if len(bytes.TrimSpace(call.Input)) > 0 {
		if err := json.Unmarshal(call.Input, &in); err != nil {
			return Outcome{}, toolErr("invalid input for %s: %v", call.Name, err)
		}
	}
	switch call.Name {
	case ToolBash:
		return tb.bash(ctx, in.Command, in.Timeout)
	case ToolReadFile:
		return tb.readFile(ctx, in.Path)
	case ToolWriteFile:
		return tb.writeFile(ctx, in.Path, []byte(in.Content))
	case ToolEditFile:
		return tb.editFile(ctx, in.Path, in.OldString, in.NewString)
	case ToolListFiles:
		return tb.listFiles(ctx, in.Path)
	case ToolRunCode:
		return tb.runCode(ctx, in.Language, in.Code, in.Timeout)
	case ToolWebFetch:
		return tb.webFetch(ctx, in.URL, in.Timeout)
	}
	return Outcome{}, toolErr("unknown tool %q", call.Name)
}

// resolve makes a path absolute in the workspace.
func (tb *Toolbox) resolve(p string) (string, error) {
	if p == "" {
		return "", toolErr("path is required")
	}
	if !path.IsAbs(p) {
		p = path.Join(tb.Dir, p)
	}
	return path.Clean(p), nil
}

func (tb *Toolbox) bash(ctx context.Context, command string, timeout int) (Outcome, error) {
	if strings.TrimSpace(command) == "" {
		return Outcome{}, toolErr("command is required")
	}
	d := DefaultBashTimeout
	if timeout > 0 {
		d = min(time.Duration(timeout)*time.Second, MaxBashTimeout)
	}
	res, err := tb.Box.Exec(ctx, command, tb.Dir, d, OutputCap)
	if err != nil {
		return Outcome{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "exit code: %d\n", res.ExitCode)
	if res.TimedOut {
		fmt.Fprintf(&b, "(killed after %s)\n", d)
	}
	if len(res.Stdout) > 0 {
		fmt.Fprintf(&b, "stdout:\n%s\n", res.Stdout)
	}
	if len(res.Stderr) > 0 {
		fmt.Fprintf(&b, "stderr:\n%s\n", res.Stderr)
	}
	if res.Truncated {
		fmt.Fprintf(&b, "(output cut at %d bytes per stream)\n", OutputCap)
	}
	return Outcome{Content: b.String(), IsError: res.ExitCode != 0, Stderr: string(res.Stderr)}, nil
}

func (tb *Toolbox) readFile(ctx context.Context, p string) (Outcome, error) {
	p, err := tb.resolve(p)
	if err != nil {
		return Outcome{}, err
	}
	data, more, err := tb.Box.ReadFile(ctx, p, ReadCap)
	if err != nil {
		return Outcome{}, err
	}
	content := string(data)
	if more {
		content += fmt.Sprintf("\n(file cut at %d bytes)", ReadCap)
	}
	return Outcome{Content: content}, nil
}

func (tb *Toolbox) writeFile(ctx context.Context, p string, data []byte) (Outcome, error) {
	p, err := tb.resolve(p)
	if err != nil {
		return Outcome{}, err
	}
	if err := tb.Box.WriteFile(ctx, p, data); err != nil {
		return Outcome{}, err
	}
	return Outcome{Content: fmt.Sprintf("wrote %d bytes to %s", len(data), p), File: &FileOut{Path: p, Content: data}}, nil
}

func (tb *Toolbox) editFile(ctx context.Context, p, old, repl string) (Outcome, error) {
	p, err := tb.resolve(p)
	if err != nil {
		return Outcome{}, err
	}
	if old == "" {
		return Outcome{}, toolErr("old_string is required")
	}
	data, more, err := tb.Box.ReadFile(ctx, p, ReadCap)
	if err != nil {
		return Outcome{}, err
	}
	if more {
		return Outcome{}, toolErr("%s is larger than %d bytes: edit it with bash", p, ReadCap)
	}
	switch n := strings.Count(string(data), old); n {
	case 0:
		return Outcome{}, toolErr("old_string does not occur in %s", p)
	case 1:
	default:
		return Outcome{}, toolErr("old_string occurs %d times in %s: give more context so it occurs once", n, p)
	}
	next := []byte(strings.Replace(string(data), old, repl, 1))
	if err := tb.Box.WriteFile(ctx, p, next); err != nil {
		return Outcome{}, err
	}
	return Outcome{Content: "edited " + p, File: &FileOut{Path: p, Content: next}}, nil
}

func (tb *Toolbox) listFiles(ctx context.Context, p string) (Outcome, error) {
	if p == "" {
		p = tb.Dir
	}
	p, err := tb.resolve(p)
	if err != nil {
		return Outcome{}, err
	}
	names, err := tb.Box.List(ctx, p)
	if err != nil {
		return Outcome{}, err
	}
	sort.Strings(names)
	more := ""
	if len(names) > ListCap {
		more = fmt.Sprintf("\n(%d more entries not shown)", len(names)-ListCap)
		names = names[:ListCap]
	}
	if len(names) == 0 {
		return Outcome{Content: p + " is empty"}, nil
	}
	return Outcome{Content: strings.Join(names, "\n") + more}, nil
}
