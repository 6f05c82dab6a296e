// Package openai is the agent's provider for OpenAI-compatible Chat Completions (OpenAI,
// OpenRouter, vLLM, Ollama...), streamed with tool calls through the official Go SDK.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/paddock/paddock/internal/agent"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Provider talks to one Chat Completions endpoint with one key. Safe for concurrent use.
type Provider struct {
	name   string
	client sdk.Client
}

var _ agent.Provider = (*Provider)(nil)

// New returns a provider named name (for messages) with key against baseURL ("" =
// DefaultBaseURL). The SDK retries 429 and 5xx answers (honouring retry-after) up to
// retries times before the stream starts.
func New(name, key, baseURL string, retries int) *Provider {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Provider{name: name, client: sdk.NewClient(option.WithAPIKey(key), option.WithBaseURL(baseURL),
		option.WithMaxRetries(retries))}
}

// Turn implements agent.Provider.
func (p *Provider) Turn(ctx context.Context, req agent.TurnRequest, onDelta func(agent.Delta) error) (*agent.Reply, error) {
	params := sdk.ChatCompletionNewParams{
		Model:               shared.ChatModel(req.Model),
		Messages:            messages(req.System, req.Messages),
		MaxCompletionTokens: sdk.Int(req.MaxTokens),
		StreamOptions:       sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)},
	}
	for _, t := range req.Tools {
		params.Tools = append(params.Tools, sdk.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: t.Name, Description: sdk.String(t.Description), Parameters: shared.FunctionParameters(t.Schema)}))
	}
	switch req.Thinking {
	case "low", "medium", "high":
		params.ReasoningEffort = shared.ReasoningEffort(req.Thinking)
	}
	stream := p.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()
	var (
		text   string
		calls  = map[int64]*agent.ToolCall{}
		args   = map[int64]string{}
		rep    agent.Reply
		finish string
	)
	for stream.Next() {
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() {
			rep.InputTokens, rep.OutputTokens = chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
			if d := ch.Delta.Content; d != "" {
				text += d
				if err := onDelta(agent.Delta{Kind: agent.DeltaText, Text: d}); err != nil {
					return nil, err
				}
			}
			for _, tc := range ch.Delta.ToolCalls {
				c := calls[tc.Index]
				if c == nil {
					c = &agent.ToolCall{}
					calls[tc.Index] = c
				}
				if tc.ID != "" {
					c.ID = tc.ID
				}
				if tc.Function.Name != "" {
					c.Name = tc.Function.Name
				}
				args[tc.Index] += tc.Function.Arguments
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, p.providerError(ctx, err)
	}
	rep.StopReason = finish
	rep.Message = agent.Message{Role: agent.RoleAssistant, Text: text}
	idx := make([]int64, 0, len(calls))
	for i := range calls {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	for _, i := range idx {
		c := calls[i]
		c.Input = json.RawMessage(args[i])
		if len(c.Input) == 0 {
			c.Input = json.RawMessage("{}")
		}
		rep.Message.Calls = append(rep.Message.Calls, *c)
	}
	return &rep, nil
}

func (p *Provider) providerError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var api *sdk.Error
	if errors.As(err, &api) {
		msg := api.Message
		if msg == "" {
			msg = api.Error()
		}
		return &agent.ProviderError{Provider: p.name, Status: api.StatusCode, Message: msg, Err: err}
	}
	return &agent.ProviderError{Provider: p.name, Message: err.Error(), Err: err}
}

func messages(system string, ms []agent.Message) []sdk.ChatCompletionMessageParamUnion {
	var out []sdk.ChatCompletionMessageParamUnion
	if system != "" {
		out = append(out, sdk.SystemMessage(system))
	}
	for _, m := range ms {
		switch {
		case m.Role == agent.RoleAssistant:
			a := sdk.ChatCompletionAssistantMessageParam{}
			if m.Text != "" {
				a.Content.OfString = sdk.String(m.Text)
			}
			for _, c := range m.Calls {
				a.ToolCalls = append(a.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{ID: c.ID,
						Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: string(c.Input)}}})
			}
			out = append(out, sdk.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case len(m.Results) > 0:
			for _, r := range m.Results {
				content := r.Content
				if r.IsError {
					content = "error: " + content
				}
				out = append(out, sdk.ToolMessage(content, r.CallID))
			}
		default:
			out = append(out, sdk.UserMessage(m.Text))
		}
	}
	return out
}
