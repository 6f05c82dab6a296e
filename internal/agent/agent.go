// Package agent runs an LLM agent loop in the server: it streams each model turn from a
// Provider, runs the tool calls in a sandbox through a Toolbox, and reports what happens as
// Sandcaster's events. The model's API key stays in the server; the sandbox only sees tool calls.
package agent

import (
	"context"
	"encoding/json"
)

// Roles of a Message.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of the conversation in a provider-neutral form. A user message holds
// Text or Results; an assistant message Text, Thinking and Calls.
type Message struct {
	Role     string
	Text     string
	Thinking []Thinking
	Calls    []ToolCall
	Results  []ToolResult
}

// Thinking is a reasoning block the model produced; Signature (Anthropic) must be sent back
// with it on the next turn.
type Thinking struct {
	Text      string
	Signature string
}

// ToolCall is the model asking for a tool.
type ToolCall struct {
	ID    string
	Name  string
	Input json.RawMessage // a JSON object
}

// ToolResult answers a ToolCall.
type ToolResult struct {
	CallID  string
	Content string
	IsError bool
}

// ToolSpec describes a tool to the model.
type ToolSpec struct {
	Name        string
	Description string
	Schema      map[string]any // JSON Schema of the input object
}

// TurnRequest is what a provider is asked for one assistant turn.
type TurnRequest struct {
	Model     string
	System    string
	Messages  []Message
	Tools     []ToolSpec
	MaxTokens int64
	// Thinking is none, low, medium or high ("" = none).
	Thinking string
}

// Delta kinds.
const (
	DeltaText     = "text"
	DeltaThinking = "thinking"
)

// Delta is a fragment of the turn as it streams.
type Delta struct {
	Kind string
	Text string
}

// Reply is one complete assistant turn.
type Reply struct {
	Message      Message // role assistant
	StopReason   string  // the provider's own ("end_turn", "tool_use", "stop", "tool_calls", ...)
	InputTokens  int64
	OutputTokens int64
}

// Provider streams assistant turns from a model. Turn calls onDelta, in order, from the
// calling goroutine, before it returns; an error from onDelta ends the turn with that
// error. Safe for concurrent use.
type Provider interface {
	Turn(ctx context.Context, req TurnRequest, onDelta func(Delta) error) (*Reply, error)
}

// ProviderError is a provider's refusal or failure, with its HTTP status (0 when the stream
// broke) and the provider's own message, which is safe to show the caller.
type ProviderError struct {
	Provider string
	Status   int
	Message  string
	Err      error
}

func (e *ProviderError) Error() string { return e.Provider + ": " + e.Message }
func (e *ProviderError) Unwrap() error { return e.Err }
