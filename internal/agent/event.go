package agent

// Event types, as Sandcaster names them.
const (
	EventSystem     = "system"
	EventAssistant  = "assistant"
	EventToolUse    = "tool_use"
	EventToolResult = "tool_result"
	EventThinking   = "thinking"
	EventFile       = "file"
	EventStderr     = "stderr"
	EventWarning    = "warning"
	EventResult     = "result"
	EventError      = "error"
)

// Subtypes of assistant and thinking events.
const (
	SubtypeDelta    = "delta"
	SubtypeComplete = "complete"
)

// Event is one of Sandcaster's events; its JSON is the SSE data line. Which fields are set
// depends on Type (see docs/sandcaster.md).
type Event struct {
	Type    string `json:"type"`
	Subtype string `json:"subtype,omitempty"`
	Content string `json:"content"`

	SandboxID string `json:"sandboxId,omitempty"` // system: the sandbox made for the run

	ToolName string `json:"toolName,omitempty"` // tool_use, tool_result
	IsError  *bool  `json:"isError,omitempty"`  // tool_result (always set there)

	Path string `json:"path,omitempty"` // file

	// result
	CostUSD      *float64 `json:"costUsd,omitempty"`
	InputTokens  *int64   `json:"inputTokens,omitempty"`
	OutputTokens *int64   `json:"outputTokens,omitempty"`
	NumTurns     *int     `json:"numTurns,omitempty"`
	DurationSecs *float64 `json:"durationSecs,omitempty"`
	Model        string   `json:"model,omitempty"`
	// StructuredOutput is the final answer's JSON value when the run had an outputFormat.
	StructuredOutput any `json:"structuredOutput,omitempty"`

	// error
	Code string `json:"code,omitempty"`
	Hint string `json:"hint,omitempty"`
}

// Error codes of error events.
const (
	CodeProvider = "PROVIDER_ERROR" // the model's API refused or failed
	CodeSandbox  = "SANDBOX_ERROR"  // the sandbox could not be made or failed mid-run
	CodeTimeout  = "TIMEOUT"        // the run outlived its timeout
	CodeAgent    = "AGENT_ERROR"    // anything else (upstream's code)
)
