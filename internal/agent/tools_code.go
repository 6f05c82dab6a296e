package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/kernel"
)

// Tool names of run_code and web_fetch.
const (
	ToolRunCode  = "run_code"
	ToolWebFetch = "web_fetch"
)

// Limits of run_code.
const (
	DefaultCodeTimeout = 2 * time.Minute
	MaxCodeTimeout     = 10 * time.Minute
)

// Interpreter runs code in persistent interpreters, one per language, in a run's sandbox:
// variables, imports and functions stay from one call to the next. Safe for concurrent use.
type Interpreter interface {
	// RunCode runs code in the interpreter of language (python, javascript or bash,
	// normalised), starting it on first use; each of stdout and stderr keeps at most limit
	// bytes. A timeout interrupts the code and keeps the interpreter's state.
	RunCode(ctx context.Context, language, code string, timeout time.Duration, limit int) (CodeResult, error)
}

// CodeResult is how a run_code call ended.
type CodeResult struct {
	Stdout, Stderr string
	Results        []string // text of the values the code displayed; the last one is usually its value
	Error          *CodeError
	TimedOut       bool
	Truncated      bool
}

// CodeError is an exception the code raised.
type CodeError struct {
	Name, Value, Traceback string
}

var codeSpecs = []ToolSpec{
	{Name: ToolRunCode, Description: "Run code in a persistent interpreter in the sandbox (python, javascript or bash); " +
		"variables, imports and definitions persist between calls of the same language. Returns stdout, stderr, the value of the last expression and any error.",
		Schema: object(map[string]any{
			"code":     prop("string", "the code to run"),
			"language": map[string]any{"type": "string", "enum": []string{"python", "javascript", "bash"}, "description": "default python"},
			"timeout":  prop("integer", "seconds before the code is interrupted (default 120, at most 600); the interpreter keeps its state"),
		}, "code")},
	{Name: ToolWebFetch, Description: "Fetch an http(s) URL from inside the sandbox (its network policy applies); returns the HTTP status, content type and the body (cut at 100 KiB).",
		Schema: object(map[string]any{
			"url":     prop("string", "an http:// or https:// URL"),
			"timeout": prop("integer", "seconds before the fetch gives up (default 30, at most 120)"),
		}, "url")},
}

func (tb *Toolbox) runCode(ctx context.Context, language, code string, timeout int) (Outcome, error) {
	if tb.Code == nil {
		return Outcome{}, toolErr("run_code is not available in this sandbox")
	}
	if strings.TrimSpace(code) == "" {
		return Outcome{}, toolErr("code is required")
	}
	lang := kernel.Normalize(language)
	if _, ok := kernel.Lookup(lang); !ok {
		return Outcome{}, toolErr("unsupported language %q: use %s", language, strings.Join(kernel.Languages(), ", "))
	}
	d := DefaultCodeTimeout
	if timeout > 0 {
		d = min(time.Duration(timeout)*time.Second, MaxCodeTimeout)
	}
	res, err := tb.Code.RunCode(ctx, lang, code, d, OutputCap)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Content: formatCode(res, d), IsError: res.Error != nil || res.TimedOut, Stderr: res.Stderr}, nil
}

func formatCode(res CodeResult, d time.Duration) string {
	var b strings.Builder
	if res.Stdout != "" {
		fmt.Fprintf(&b, "stdout:\n%s\n", res.Stdout)
	}
	if res.Stderr != "" {
		fmt.Fprintf(&b, "stderr:\n%s\n", res.Stderr)
	}
	for _, r := range res.Results {
		fmt.Fprintf(&b, "result:\n%s\n", r)
	}
	if e := res.Error; e != nil {
		fmt.Fprintf(&b, "error: %s: %s\n", e.Name, e.Value)
		if e.Traceback != "" {
			fmt.Fprintf(&b, "%s\n", capString(e.Traceback, OutputCap))
		}
	}
	if res.TimedOut {
		fmt.Fprintf(&b, "(interrupted after %s; the interpreter keeps its state)\n", d)
	}
	if res.Truncated {
		fmt.Fprintf(&b, "(output cut at %d bytes per stream)\n", OutputCap)
	}
	if b.Len() == 0 {
		return "(no output)"
	}
	return b.String()
}

func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
