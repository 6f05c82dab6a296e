package mcp

import (
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/toolout"
)

// execResult is how a command ended, as exec, run and run_command answer.
type execResult struct {
	Sandbox    string `json:"sandbox,omitempty" jsonschema:"the sandbox the command ran in"`
	ExitCode   int    `json:"exit_code" jsonschema:"the command's exit code (124 when it timed out, 127 when not found)"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	DurationMS int64  `json:"duration_ms"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	Truncated  bool   `json:"truncated,omitempty" jsonschema:"output past the 64 KiB limit was cut"`
	Note       string `json:"note,omitempty" jsonschema:"what was cut, or why the command ended"`
}

// newExecResult caps res's output to OutputLimit bytes in all (toolout.Streams).
func newExecResult(sandboxName string, res *manager.ExecResult) execResult {
	out := execResult{Sandbox: sandboxName, ExitCode: res.ExitCode, DurationMS: res.Duration.Milliseconds(),
		TimedOut: res.TimedOut, Note: res.Reason}
	dropped := 0
	if res.Truncated {
		dropped = 1 // the manager already cut a stream
	}
	stdout, stderr, note := toolout.Streams(res.Stdout, res.Stderr, OutputLimit, dropped)
	out.Stdout, out.Stderr = string(stdout), string(stderr)
	out.Truncated = note != ""
	out.Note = toolout.JoinNote(out.Note, note)
	if res.TimedOut {
		out.Note = toolout.JoinNote(out.Note, "the command timed out and was killed")
	}
	return out
}
