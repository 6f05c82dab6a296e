package mcp

import (
	"bytes"
	"context"
	"encoding/base64"
	"math"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/kernel"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/session"
	"github.com/paddock/paddock/internal/toolout"
)

// DefaultTimeout is how long a command or cell of a tool may run unless the call says.
const DefaultTimeout = 5 * time.Minute

// commandArgs is a shell command and how to run it.
type commandArgs struct {
	Command string            `json:"command" jsonschema:"the command, run through /bin/sh -c"`
	Cwd     string            `json:"cwd,omitempty" jsonschema:"working directory (default: the user's home)"`
	Env     map[string]string `json:"env,omitempty" jsonschema:"extra environment variables"`
	Timeout float64           `json:"timeout,omitempty" jsonschema:"seconds before the command is killed (default 300, at most 86400)"`
}

// runArgs are run's arguments.
type runArgs struct {
	Command  string            `json:"command" jsonschema:"the command, run through /bin/sh -c"`
	Cwd      string            `json:"cwd,omitempty" jsonschema:"working directory (default: the user's home)"`
	Env      map[string]string `json:"env,omitempty" jsonschema:"extra environment variables"`
	Timeout  float64           `json:"timeout,omitempty" jsonschema:"seconds before the command is killed (default 300, at most 86400)"`
	Template string            `json:"template,omitempty" jsonschema:"the template of the sandbox (default: base)"`
	Image    string            `json:"image,omitempty" jsonschema:"an image instead of the template's"`
}

// execArgs are exec's arguments.
type execArgs struct {
	Sandbox string            `json:"sandbox" jsonschema:"the sandbox's name or ID"`
	Command string            `json:"command" jsonschema:"the command, run through /bin/sh -c"`
	Cwd     string            `json:"cwd,omitempty" jsonschema:"working directory (default: the user's home)"`
	Env     map[string]string `json:"env,omitempty" jsonschema:"extra environment variables"`
	Timeout float64           `json:"timeout,omitempty" jsonschema:"seconds before the command is killed (default 300, at most 86400)"`
}

// fileArgs name a file of a sandbox.
type fileArgs struct {
	Sandbox string `json:"sandbox" jsonschema:"the sandbox's name or ID"`
	Path    string `json:"path" jsonschema:"the file's path in the sandbox"`
}

// writeArgs are write_file's arguments.
type writeArgs struct {
	Sandbox  string `json:"sandbox" jsonschema:"the sandbox's name or ID"`
	Path     string `json:"path" jsonschema:"the file's path in the sandbox"`
	Content  string `json:"content" jsonschema:"the file's content"`
	Encoding string `json:"encoding,omitempty" jsonschema:"utf-8 (default) or base64"`
}

// writeContent is what write_file writes.
type writeContent struct {
	Content  string `json:"content" jsonschema:"the file's content"`
	Encoding string `json:"encoding,omitempty" jsonschema:"utf-8 (default) or base64"`
}

// codeArgs are run_code's arguments.
type codeArgs struct {
	Code     string  `json:"code" jsonschema:"the code to run"`
	Language string  `json:"language,omitempty" jsonschema:"the language (default python)"`
	Session  string  `json:"session,omitempty" jsonschema:"the code session to run in, made on first use (default: default)"`
	Timeout  float64 `json:"timeout,omitempty" jsonschema:"seconds before the cell is interrupted; the session keeps its state (default 300)"`
}

// fileContent is read_file's answer.
type fileContent struct {
	Path      string `json:"path"`
	Content   string `json:"content"`
	Encoding  string `json:"encoding" jsonschema:"utf-8 or base64 (content that is not UTF-8 text)"`
	Truncated bool   `json:"truncated,omitempty"`
	Note      string `json:"note,omitempty"`
}

// fileWritten is write_file's answer.
type fileWritten struct {
	Path string `json:"path"`
	Size int    `json:"size"`
}

// codeResult is run_code's answer.
type codeResult struct {
	Session        string         `json:"session"`
	Status         string         `json:"status" jsonschema:"success, error or timeout"`
	Output         string         `json:"output"`
	Stderr         string         `json:"stderr,omitempty"`
	ReturnValue    *string        `json:"return_value,omitempty"`
	Error          *session.Error `json:"error,omitempty"`
	ExecutionCount int            `json:"execution_count"`
	DurationMS     int64          `json:"duration_ms"`
	Truncated      bool           `json:"truncated,omitempty"`
	Note           string         `json:"note,omitempty"`
}

// timeout is seconds as a duration: DefaultTimeout when 0, at most manager.MaxTimeout.
func timeout(seconds float64) (time.Duration, error) {
	switch {
	case seconds < 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0):
		return 0, errdefs.InvalidArgument("timeout must be a positive number of seconds")
	case seconds == 0:
		return DefaultTimeout, nil
	case seconds > manager.MaxTimeout.Seconds():
		return 0, errdefs.InvalidArgument("timeout must be at most %d seconds", int(manager.MaxTimeout.Seconds()))
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

// execRequest validates a command.
func (c commandArgs) execRequest() (manager.ExecRequest, error) {
	if strings.TrimSpace(c.Command) == "" {
		return manager.ExecRequest{}, errdefs.InvalidArgument("command is required")
	}
	d, err := timeout(c.Timeout)
	if err != nil {
		return manager.ExecRequest{}, err
	}
	if err := manager.ValidateEnv(c.Env); err != nil {
		return manager.ExecRequest{}, err
	}
	return manager.ExecRequest{Shell: c.Command, Cwd: c.Cwd, Env: c.Env, Timeout: d, OutputLimit: OutputLimit}, nil
}

// run makes a fresh sandbox, runs the command in it and discards it.
func (s *Server) run(ctx context.Context, in runArgs) (execResult, error) {
	er, err := commandArgs{Command: in.Command, Cwd: in.Cwd, Env: in.Env, Timeout: in.Timeout}.execRequest()
	if err != nil {
		return execResult{}, err
	}
	spec, opts, err := s.templated(in.Template, sandbox.Spec{Name: generatedName("run"), Image: in.Image,
		Labels: map[string]string{"paddock.run": "true"}})
	if err != nil {
		return execResult{}, err
	}
	sb, err := s.m.Create(ctx, spec, owner(ctx), opts...)
	if err != nil {
		return execResult{}, err
	}
	defer s.m.Discard(ctx, sb.ID)
	res, err := s.m.Exec(ctx, sb.ID, er)
	if err != nil {
		return execResult{}, err
	}
	return newExecResult(sb.Name, res), nil
}

func (s *Server) exec(ctx context.Context, in execArgs) (execResult, error) {
	sb, err := s.sandboxNamed(ctx, in.Sandbox)
	if err != nil {
		return execResult{}, err
	}
	return s.execIn(ctx, sb, commandArgs{Command: in.Command, Cwd: in.Cwd, Env: in.Env, Timeout: in.Timeout})
}

func (s *Server) execIn(ctx context.Context, sb *sandbox.Sandbox, c commandArgs) (execResult, error) {
	er, err := c.execRequest()
	if err != nil {
		return execResult{}, err
	}
	res, err := s.m.Exec(ctx, sb.ID, er)
	if err != nil {
		return execResult{}, err
	}
	return newExecResult(sb.Name, res), nil
}

func (s *Server) readFile(ctx context.Context, in fileArgs) (fileContent, error) {
	sb, err := s.sandboxNamed(ctx, in.Sandbox)
	if err != nil {
		return fileContent{}, err
	}
	return s.readFileIn(ctx, sb, in.Path)
}

// readFileIn reads at most OutputLimit bytes of text (three quarters of it as base64, which
// is a third longer).
func (s *Server) readFileIn(ctx context.Context, sb *sandbox.Sandbox, path string) (fileContent, error) {
	if strings.TrimSpace(path) == "" {
		return fileContent{}, errdefs.InvalidArgument("path is required")
	}
	rc, err := s.m.ReadFile(ctx, sb.ID, path, "")
	if err != nil {
		return fileContent{}, err
	}
	defer rc.Close()
	txt, err := toolout.ReadText(rc, OutputLimit, "exec")
	if err != nil {
		return fileContent{}, err
	}
	return fileContent{Path: path, Content: txt.Content, Encoding: txt.Encoding, Truncated: txt.Truncated, Note: txt.Note}, nil
}

func (s *Server) writeFile(ctx context.Context, in writeArgs) (fileWritten, error) {
	sb, err := s.sandboxNamed(ctx, in.Sandbox)
	if err != nil {
		return fileWritten{}, err
	}
	return s.writeFileIn(ctx, sb, in.Path, writeContent{Content: in.Content, Encoding: in.Encoding})
}

func (s *Server) writeFileIn(ctx context.Context, sb *sandbox.Sandbox, path string, c writeContent) (fileWritten, error) {
	if strings.TrimSpace(path) == "" {
		return fileWritten{}, errdefs.InvalidArgument("path is required")
	}
	data := []byte(c.Content)
	switch strings.ToLower(c.Encoding) {
	case "", "utf-8", "utf8", "text":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(c.Content); err != nil {
			return fileWritten{}, errdefs.InvalidArgument("content is not valid base64")
		}
	default:
		return fileWritten{}, errdefs.InvalidArgument("unknown encoding %q: use utf-8 or base64", c.Encoding)
	}
	if err := s.m.WriteFile(ctx, sb.ID, path, "", bytes.NewReader(data)); err != nil {
		return fileWritten{}, err
	}
	return fileWritten{Path: path, Size: len(data)}, nil
}

// runCode runs a cell in the caller's code session, made (with a sandbox of its own) on
// first use.
func (s *Server) runCode(ctx context.Context, in codeArgs) (codeResult, error) {
	name := in.Session
	if name == "" {
		name = "default"
	}
	return s.runCodeIn(ctx, session.CreateRequest{Name: name, Language: in.Language, Owner: session.OwnerOf(ctx)}, in)
}

// runCodeIn runs in.Code in the kernel req names, made when it does not exist.
func (s *Server) runCodeIn(ctx context.Context, req session.CreateRequest, in codeArgs) (codeResult, error) {
	if s.opts.Sessions == nil {
		return codeResult{}, errdefs.Unavailable("code sessions are not available on this server")
	}
	if strings.TrimSpace(in.Code) == "" {
		return codeResult{}, errdefs.InvalidArgument("code is required")
	}
	if req.Language == "" {
		req.Language = "python"
	}
	d, err := timeout(in.Timeout)
	if err != nil {
		return codeResult{}, err
	}
	k, err := s.opts.Sessions.GetOrCreate(ctx, req)
	if err != nil {
		return codeResult{}, err
	}
	res, err := s.opts.Sessions.Execute(ctx, k.ID, req.Owner, in.Language, in.Code, d)
	if err != nil {
		return codeResult{}, err
	}
	return newCodeResult(req.Name, res), nil
}

// newCodeResult caps the output and stderr of res to OutputLimit bytes in all.
func newCodeResult(name string, res *session.Result) codeResult {
	out := codeResult{Session: name, Status: res.Status, ReturnValue: res.ReturnValue, Error: res.Error,
		ExecutionCount: res.ExecutionCount, DurationMS: res.DurationMS, Truncated: res.Truncated}
	out.Output = toolout.CutString(res.Output, OutputLimit)
	out.Stderr = toolout.CutString(res.Stderr, OutputLimit-len(out.Output))
	if res.ReturnValue != nil {
		v := toolout.CutString(*res.ReturnValue, max(OutputLimit-len(out.Output)-len(out.Stderr), 1024))
		out.ReturnValue = &v
	}
	if out.Truncated || len(out.Output) < len(res.Output) || len(out.Stderr) < len(res.Stderr) {
		out.Truncated = true
		out.Note = "output truncated: the tool answers at most 64 KiB"
	}
	return out
}

// languages lists run_code's languages.
func languages() string { return strings.Join(kernel.Languages(), ", ") }
