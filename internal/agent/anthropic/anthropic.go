// Package anthropic is the agent's provider for Anthropic's Messages API, streamed through
// the official Go SDK (tool use, thinking).
package anthropic

import (
	"context"
	"encoding/json"
	"errors"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/paddock/paddock/internal/agent"
)

// Provider talks to one Anthropic endpoint with one key. Safe for concurrent use.
type Provider struct {
	client sdk.Client
}

var _ agent.Provider = (*Provider)(nil)

// New returns a provider with key against baseURL ("" = Anthropic's API). Nothing is read
// from the environment: the server decides where keys come from. The SDK retries 429, 5xx
// and overloaded answers (honouring retry-after) up to retries times before the stream
// starts.
func New(key, baseURL string, retries int) *Provider {
	opts := []option.RequestOption{option.WithoutEnvironmentDefaults(), option.WithAPIKey(key), option.WithMaxRetries(retries)}
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
	}
	return &Provider{client: sdk.NewClient(opts...)}
}

// thinkingBudget is the token budget of each thinking level.
var thinkingBudget = map[string]int64{"low": 1024, "medium": 4096, "high": 16384}

// Turn implements agent.Provider.
func (p *Provider) Turn(ctx context.Context, req agent.TurnRequest, onDelta func(agent.Delta) error) (*agent.Reply, error) {
	params := sdk.MessageNewParams{Model: sdk.Model(req.Model), MaxTokens: req.MaxTokens, Messages: messages(req.Messages)}
	if req.System != "" {
		params.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	for _, t := range req.Tools {
		params.Tools = append(params.Tools, tool(t))
	}
	if budget, ok := thinkingBudget[req.Thinking]; ok {
		params.Thinking = sdk.ThinkingConfigParamOfEnabled(budget)
		params.MaxTokens = max(params.MaxTokens, budget+4096) // max_tokens must exceed the budget
	}
	stream := p.client.Messages.NewStreaming(ctx, params)
	defer stream.Close()
	var msg sdk.Message
	for stream.Next() {
		ev := stream.Current()
		if err := msg.Accumulate(ev); err != nil {
			return nil, &agent.ProviderError{Provider: "anthropic", Message: "malformed stream: " + err.Error(), Err: err}
		}
		if ev.Type != "content_block_delta" {
			continue
		}
		var d agent.Delta
		switch ev.Delta.Type {
		case "text_delta":
			d = agent.Delta{Kind: agent.DeltaText, Text: ev.Delta.Text}
		case "thinking_delta":
			d = agent.Delta{Kind: agent.DeltaThinking, Text: ev.Delta.Thinking}
		default:
			continue
		}
		if err := onDelta(d); err != nil {
			return nil, err
		}
	}
	if err := stream.Err(); err != nil {
		return nil, providerError(ctx, err)
	}
	return reply(msg), nil
}

// providerError keeps the API's own message; a cancelled context stays what it is.
func providerError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var api *sdk.Error
	if errors.As(err, &api) {
		msg := api.Message
		if msg == "" {
			msg = api.Error()
		}
		if t := string(api.Type()); t != "" {
			msg = t + ": " + msg
		}
		return &agent.ProviderError{Provider: "anthropic", Status: api.StatusCode, Message: msg, Err: err}
	}
	return &agent.ProviderError{Provider: "anthropic", Message: err.Error(), Err: err}
}

func tool(t agent.ToolSpec) sdk.ToolUnionParam {
	schema := sdk.ToolInputSchemaParam{Properties: t.Schema["properties"]}
	if req, ok := t.Schema["required"].([]string); ok {
		schema.Required = req
	}
	return sdk.ToolUnionParam{OfTool: &sdk.ToolParam{Name: t.Name, Description: sdk.String(t.Description), InputSchema: schema}}
}

func messages(ms []agent.Message) []sdk.MessageParam {
	out := make([]sdk.MessageParam, 0, len(ms))
	for _, m := range ms {
		var blocks []sdk.ContentBlockParamUnion
		if m.Role == agent.RoleAssistant {
			for _, t := range m.Thinking {
				blocks = append(blocks, sdk.NewThinkingBlock(t.Signature, t.Text))
			}
		}
		if m.Text != "" {
			blocks = append(blocks, sdk.NewTextBlock(m.Text))
		}
		for _, c := range m.Calls {
			blocks = append(blocks, sdk.NewToolUseBlock(c.ID, json.RawMessage(c.Input), c.Name))
		}
		for _, r := range m.Results {
			blocks = append(blocks, sdk.NewToolResultBlock(r.CallID, r.Content, r.IsError))
		}
		if m.Role == agent.RoleAssistant {
			out = append(out, sdk.NewAssistantMessage(blocks...))
		} else {
			out = append(out, sdk.NewUserMessage(blocks...))
		}
	}
	return out
}

func reply(msg sdk.Message) *agent.Reply {
	m := agent.Message{Role: agent.RoleAssistant}
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			m.Text += b.Text
		case "thinking":
			m.Thinking = append(m.Thinking, agent.Thinking{Text: b.Thinking, Signature: b.Signature})
		case "tool_use":
			input := json.RawMessage(b.Input)
			if len(input) == 0 {
				input = json.RawMessage("{}")
			}
			m.Calls = append(m.Calls, agent.ToolCall{ID: b.ID, Name: b.Name, Input: input})
		}
	}
	return &agent.Reply{Message: m, StopReason: string(msg.StopReason),
		InputTokens: msg.Usage.InputTokens, OutputTokens: msg.Usage.OutputTokens}
}
