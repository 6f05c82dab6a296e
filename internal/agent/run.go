package agent

import (
	"context"
	"fmt"
	"slices"
)

// Defaults of a Run.
const (
	DefaultMaxTurns  = 30
	DefaultMaxTokens = 8192
	// FileEventCap is the largest file whose content a file event carries.
	FileEventCap = 256 << 10
)

// Result subtypes.
const (
	ResultSuccess  = "success"
	ResultMaxTurns = "error_max_turns"
)

// Run is one agent run: the loop of model turns and tool calls. Emit is called for every
// event, in order, from the goroutine calling Do; an error from it (the client went away)
// ends the run with that error.
type Run struct {
	Provider  Provider
	Model     string // the model ID
	System    string
	MaxTurns  int   // 0 = DefaultMaxTurns
	MaxTokens int64 // per turn; 0 = DefaultMaxTokens
	Thinking  string
	Tools     *Toolbox
	Emit      func(Event) error
	// History is the conversation so far (a session's earlier turns); Do continues it.
	History []Message
	// Output, when set, is the schema the final answer must match (see finalAnswer).
	Output *OutputSchema

	repaired bool // the repair turn was used; a Run is done once
}

// Result is how a run ended.
type Result struct {
	Content      string // the last assistant text
	Subtype      string // ResultSuccess or ResultMaxTurns
	NumTurns     int
	InputTokens  int64
	OutputTokens int64
	// Messages is the conversation after the run, History included.
	Messages   []Message
	Structured any // the final answer's JSON value, when the run has an Output schema
}

// Do runs the loop from prompt until the model answers without tool calls or MaxTurns
// turns were used. The returned error is a provider's (*ProviderError), the sandbox's, the
// context's or Emit's; res holds what was counted up to it.
func (r *Run) Do(ctx context.Context, prompt string) (res Result, err error) {
	maxTurns := r.MaxTurns
	if maxTurns <= 0 {
		maxTurns = DefaultMaxTurns
	}
	maxTokens := r.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	msgs := append(slices.Clone(r.History), Message{Role: RoleUser, Text: prompt})
	defer func() { res.Messages = msgs }()
	for {
		if res.NumTurns >= maxTurns {
			res.Subtype = ResultMaxTurns
			return res, r.Emit(Event{Type: EventWarning, Content: fmt.Sprintf("stopped after maxTurns (%d) turns", maxTurns)})
		}
		reply, err := r.Provider.Turn(ctx, TurnRequest{Model: r.Model, System: r.System, Messages: msgs,
			Tools: r.Tools.Specs(), MaxTokens: maxTokens, Thinking: r.Thinking}, r.delta)
		if err != nil {
			return res, err
		}
		res.NumTurns++
		res.InputTokens += reply.InputTokens
		res.OutputTokens += reply.OutputTokens
		if err := r.complete(reply.Message); err != nil {
			return res, err
		}
		if reply.Message.Text != "" {
			res.Content = reply.Message.Text
		}
		msgs = append(msgs, reply.Message)
		if len(reply.Message.Calls) == 0 {
			repair, err := r.finalAnswer(&res, reply.Message)
			if repair == nil || err != nil {
				return res, err
			}
			msgs = append(msgs, *repair)
			continue
		}
		results, err := r.callTools(ctx, reply.Message.Calls)
		if err != nil {
			return res, err
		}
		msgs = append(msgs, Message{Role: RoleUser, Results: results})
	}
}

// delta reports a streamed fragment.
func (r *Run) delta(d Delta) error {
	typ := EventAssistant
	if d.Kind == DeltaThinking {
		typ = EventThinking
	}
	return r.Emit(Event{Type: typ, Subtype: SubtypeDelta, Content: d.Text})
}

// complete reports a whole turn's thinking and text.
func (r *Run) complete(m Message) error {
	for _, t := range m.Thinking {
		if t.Text == "" {
			continue
		}
		if err := r.Emit(Event{Type: EventThinking, Subtype: SubtypeComplete, Content: t.Text}); err != nil {
			return err
		}
	}
	if m.Text == "" {
		return nil
	}
	return r.Emit(Event{Type: EventAssistant, Subtype: SubtypeComplete, Content: m.Text})
}

// callTools runs a turn's calls in order, reporting each.
func (r *Run) callTools(ctx context.Context, calls []ToolCall) ([]ToolResult, error) {
	results := make([]ToolResult, 0, len(calls))
	for _, c := range calls {
		input := string(c.Input)
		if input == "" {
			input = "{}"
		}
		if err := r.Emit(Event{Type: EventToolUse, ToolName: c.Name, Content: input}); err != nil {
			return nil, err
		}
		out, err := r.Tools.Call(ctx, c)
		if err != nil {
			return nil, err
		}
		if out.Stderr != "" {
			if err := r.Emit(Event{Type: EventStderr, Content: out.Stderr}); err != nil {
				return nil, err
			}
		}
		isErr := out.IsError
		if err := r.Emit(Event{Type: EventToolResult, ToolName: c.Name, Content: out.Content, IsError: &isErr}); err != nil {
			return nil, err
		}
		if f := out.File; f != nil {
			if err := r.emitFile(f); err != nil {
				return nil, err
			}
		}
		results = append(results, ToolResult{CallID: c.ID, Content: out.Content, IsError: out.IsError})
	}
	return results, nil
}

func (r *Run) emitFile(f *FileOut) error {
	if len(f.Content) > FileEventCap {
		return r.Emit(Event{Type: EventWarning, Content: fmt.Sprintf("%s is larger than %d bytes: no file event", f.Path, FileEventCap)})
	}
	return r.Emit(Event{Type: EventFile, Path: f.Path, Content: string(f.Content)})
}
