package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/client"
)

func newQueryCmd() *cobra.Command {
	var (
		req    client.QueryRequest
		files  []string
		schema string
		turns  int
		secs   int
	)
	cmd := &cobra.Command{
		Use:   "query PROMPT",
		Short: "Run an LLM agent in a fresh sandbox (Sandcaster's POST /query) and stream what it does",
		Long: `Run an LLM agent whose tools act in a fresh sandbox, and stream its events: the
assistant's text as it is written, one line per tool call, and a cost line at the end.
With --json, every event is printed as one JSON line (NDJSON) as the server sent it.
The exit status is 1 when the run ends with an error event.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Prompt = args[0]
			if turns > 0 {
				req.MaxTurns = &turns
			}
			if secs > 0 {
				req.Timeout = &secs
			}
			var err error
			if req.Files, err = readQueryFiles(files); err != nil {
				return err
			}
			if schema != "" {
				if req.OutputFormat, err = readSchema(schema); err != nil {
					return err
				}
			}
			out := newEventPrinter(cmd.OutOrStdout(), cmd.ErrOrStderr(), remote.json)
			if err := newClient().Query(cmd.Context(), req, out.print); err != nil {
				return err
			}
			if out.failed {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Model, "model", "m", "", "model alias (sonnet, opus, haiku, or the server's sandcaster.json aliases) or model ID")
	f.StringVar(&req.Provider, "provider", "", "anthropic, openai or openrouter (default: from the model)")
	f.StringArrayVarP(&files, "file", "f", nil, "upload a file into the workspace (repeatable); a relative path keeps its directories, others land by base name")
	f.StringVar(&schema, "output-schema", "", "JSON Schema file the final answer must match (printed as structured output)")
	f.IntVar(&turns, "max-turns", 0, "model turns before the run stops (default: the server's)")
	f.IntVar(&secs, "timeout", 0, "seconds the whole run may take, 5 to 3600 (default: the server's)")
	f.StringSliceVar(&req.AllowedTools, "tools", nil, "tools the agent may use, comma-separated (default: all)")
	f.StringVar(&req.ThinkingLevel, "thinking", "", "none, low, medium or high")
	f.StringVar(&req.SandboxProvider, "template", "", "sandbox template (default base)")
	return cmd
}

// readQueryFiles reads the --file paths into the request's files: a relative path inside
// the current directory keeps its directories, any other lands by its base name.
func readQueryFiles(paths []string) (map[string]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := filepath.ToSlash(filepath.Clean(p))
		if filepath.IsAbs(p) || name == ".." || strings.HasPrefix(name, "../") {
			name = filepath.Base(p)
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("--file: two files would be uploaded as %s", name)
		}
		files[path.Clean(name)] = string(b)
	}
	return files, nil
}

func readSchema(file string) (json.RawMessage, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("--output-schema %s: want a JSON object: %w", file, err)
	}
	return b, nil
}

// eventPrinter prints a run's events as text (or NDJSON) as they arrive.
type eventPrinter struct {
	out, errOut io.Writer
	json        bool
	midLine     bool   // the assistant's text so far does not end with a newline
	pending     string // the tool call waiting for its result
	failed      bool   // an error event came
}

func newEventPrinter(out, errOut io.Writer, asJSON bool) *eventPrinter {
	return &eventPrinter{out: out, errOut: errOut, json: asJSON}
}

func (p *eventPrinter) print(ev client.AgentEvent) error {
	if ev.Type == "error" {
		p.failed = true
	}
	if p.json {
		return json.NewEncoder(p.out).Encode(ev)
	}
	switch ev.Type {
	case "assistant":
		if ev.Subtype == "delta" {
			p.text(ev.Content)
		} else {
			p.endLine()
		}
	case "tool_use":
		p.endLine()
		p.pending = ev.ToolName + " " + oneLine(ev.Content, 100)
	case "tool_result":
		mark := "✓"
		if ev.IsError != nil && *ev.IsError {
			mark = "✗ " + oneLine(ev.Content, 80)
		}
		fmt.Fprintf(p.out, "▸ %s  %s\n", p.pending, mark)
		p.pending = ""
	case "system":
		if ev.Subtype == "sandbox_created" {
			fmt.Fprintf(p.errOut, "sandbox %s\n", ev.SandboxID)
		}
	case "warning":
		p.endLine()
		fmt.Fprintf(p.errOut, "warning: %s\n", ev.Content)
	case "result":
		p.result(ev)
	case "error":
		p.endLine()
		fmt.Fprintf(p.errOut, "error [%s]: %s\n", ev.Code, ev.Content)
		if ev.Hint != "" {
			fmt.Fprintf(p.errOut, "hint: %s\n", ev.Hint)
		}
	}
	return nil
}

func (p *eventPrinter) text(s string) {
	if s == "" {
		return
	}
	fmt.Fprint(p.out, s)
	p.midLine = !strings.HasSuffix(s, "\n")
}

func (p *eventPrinter) endLine() {
	if p.midLine {
		fmt.Fprintln(p.out)
		p.midLine = false
	}
}

func (p *eventPrinter) result(ev client.AgentEvent) {
	p.endLine()
	if len(ev.StructuredOutput) > 0 {
		var v any
		if json.Unmarshal(ev.StructuredOutput, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintf(p.out, "structured output:\n%s\n", b)
		}
	}
	deref := func(f *float64) float64 {
		if f == nil {
			return 0
		}
		return *f
	}
	var turns int
	var in, out int64
	if ev.NumTurns != nil {
		turns = *ev.NumTurns
	}
	if ev.InputTokens != nil && ev.OutputTokens != nil {
		in, out = *ev.InputTokens, *ev.OutputTokens
	}
	line := fmt.Sprintf("── %s · %d turns · %d in / %d out tokens · $%.4f · %.1fs", ev.Model, turns, in, out, deref(ev.CostUSD), deref(ev.DurationSecs))
	if ev.Subtype != "" && ev.Subtype != "success" {
		line += " · " + ev.Subtype
	}
	fmt.Fprintln(p.out, line)
}

// oneLine flattens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
