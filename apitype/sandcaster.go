package apitype

import (
	"encoding/json"
	"time"
)

// QueryRequest is Sandcaster's POST /query body (docs/sandcaster.md): upstream's
// QueryRequestSchema as Paddock takes it.
type QueryRequest struct {
	Prompt          string            `json:"prompt"`
	Model           string            `json:"model,omitempty"`
	Provider        string            `json:"provider,omitempty"`
	MaxTurns        *int              `json:"maxTurns,omitempty"`
	Timeout         *int              `json:"timeout,omitempty"` // seconds, 5 to 3600
	Files           map[string]string `json:"files,omitempty"`   // relative path → text content
	OutputFormat    json.RawMessage   `json:"outputFormat,omitempty"`
	AllowedTools    []string          `json:"allowedTools,omitempty"`
	ThinkingLevel   string            `json:"thinkingLevel,omitempty"`
	SandboxProvider string            `json:"sandboxProvider,omitempty"`
	APIKeys         *QueryAPIKeys     `json:"apiKeys,omitempty"`
}

// QueryAPIKeys are per-run provider keys, used for that run only.
type QueryAPIKeys struct {
	Anthropic  string `json:"anthropic,omitempty"`
	OpenAI     string `json:"openai,omitempty"`
	OpenRouter string `json:"openrouter,omitempty"`
}

// AgentEvent is one server-sent event of POST /query; which fields are set depends on Type
// (system, assistant, thinking, tool_use, tool_result, file, stderr, warning, result, error).
type AgentEvent struct {
	Type      string `json:"type"`
	Subtype   string `json:"subtype,omitempty"`
	Content   string `json:"content"`
	SandboxID string `json:"sandboxId,omitempty"`
	ToolName  string `json:"toolName,omitempty"`
	IsError   *bool  `json:"isError,omitempty"`
	Path      string `json:"path,omitempty"`
	// result
	CostUSD          *float64        `json:"costUsd,omitempty"`
	InputTokens      *int64          `json:"inputTokens,omitempty"`
	OutputTokens     *int64          `json:"outputTokens,omitempty"`
	NumTurns         *int            `json:"numTurns,omitempty"`
	DurationSecs     *float64        `json:"durationSecs,omitempty"`
	Model            string          `json:"model,omitempty"`
	StructuredOutput json.RawMessage `json:"structuredOutput,omitempty"`
	// error
	Code string `json:"code,omitempty"`
	Hint string `json:"hint,omitempty"`
}

// AgentRun is one record of GET /runs.
type AgentRun struct {
	ID           string     `json:"id"`
	Prompt       string     `json:"prompt"`
	Model        string     `json:"model,omitempty"`
	Status       string     `json:"status"` // running, completed, error
	StartedAt    time.Time  `json:"startedAt"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	CostUSD      float64    `json:"costUsd"`
	InputTokens  int64      `json:"inputTokens"`
	OutputTokens int64      `json:"outputTokens"`
	NumTurns     int        `json:"numTurns"`
	DurationSecs float64    `json:"durationSecs"`
	Error        string     `json:"error,omitempty"`
	FilesCount   int        `json:"filesCount"`
	SessionID    string     `json:"sessionId,omitempty"`
}
