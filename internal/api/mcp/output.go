package mcp

import (
	"fmt"
	"unicode/utf8"

	"github.com/paddock/paddock/internal/manager"
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

// newExecResult caps res's output to OutputLimit bytes in all: stderr keeps up to half when
// both streams are long, the rest goes to stdout.
func newExecResult(sandboxName string, res *manager.ExecResult) execResult {
	out := execResult{Sandbox: sandboxName, ExitCode: res.ExitCode, DurationMS: res.Duration.Milliseconds(),
		TimedOut: res.TimedOut, Note: res.Reason}
	stdout, stderr := res.Stdout, res.Stderr
	if len(stdout)+len(stderr) > OutputLimit {
		errKeep := min(len(stderr), OutputLimit/2)
		if len(stdout) < OutputLimit-errKeep {
			errKeep = OutputLimit - len(stdout)
		}
		stdout, stderr = cut(stdout, OutputLimit-errKeep), cut(stderr, errKeep)
	}
	out.Stdout, out.Stderr = string(stdout), string(stderr)
	if res.Truncated || len(stdout) < len(res.Stdout) || len(stderr) < len(res.Stderr) {
		out.Truncated = true
		out.Note = joinNote(out.Note, fmt.Sprintf("output truncated: the tool answers at most %d bytes of stdout and stderr in all (kept: stdout %d bytes, stderr %d)",
			OutputLimit, len(stdout), len(stderr)))
	}
	if res.TimedOut {
		out.Note = joinNote(out.Note, "the command timed out and was killed")
	}
	return out
}

// cut is b cut to at most n bytes, at a UTF-8 character boundary.
func cut(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
	// Drop a character the cut split (at most 3 bytes of one).
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// cutString is cut for a string; cutString(s, n) != s says it was cut.
func cutString(s string, n int) string { return string(cut([]byte(s), n)) }

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
