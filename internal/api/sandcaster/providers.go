package sandcaster

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/anthropic"
	"github.com/paddock/paddock/internal/agent/openai"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
)

// OpenRouterBaseURL is OpenRouter's OpenAI-compatible API.
const OpenRouterBaseURL = "https://openrouter.ai/api/v1/"

// provider builds the run's client: the request's key when it gives one, else the server's.
// No key at all is 503 naming what to set.
func (a *API) provider(name string, keys *apiKeys) (agent.Provider, error) {
	if keys == nil {
		keys = &apiKeys{}
	}
	ps := a.opts.Providers
	pick := func(req, srv string) string {
		if req != "" {
			return req
		}
		return srv
	}
	missing := func(env, field string) error {
		return errdefs.Unavailable("no %s key: set %s on the server or give apiKeys.%s", name, env, field)
	}
	switch name {
	case agent.ProviderAnthropic:
		key := pick(keys.Anthropic, ps.AnthropicKey)
		if key == "" {
			return nil, missing("ANTHROPIC_API_KEY", "anthropic")
		}
		return anthropic.New(key, ps.AnthropicBaseURL, ps.Retries), nil
	case agent.ProviderOpenRouter:
		key := pick(keys.OpenRouter, ps.OpenRouterKey)
		if key == "" {
			return nil, missing("OPENROUTER_API_KEY", "openrouter")
		}
		base := ps.OpenRouterBaseURL
		if base == "" {
			base = OpenRouterBaseURL
		}
		return openai.New(name, key, base, ps.Retries), nil
	}
	key := pick(keys.OpenAI, ps.OpenAIKey)
	if key == "" {
		return nil, missing("OPENAI_API_KEY", "openai")
	}
	return openai.New(name, key, ps.OpenAIBaseURL, ps.Retries), nil
}

// errorEvent turns what ended a run into its error event; causes that are not the
// provider's own message go to the log only.
func (a *API) errorEvent(ctx context.Context, reqID string, err error) agent.Event {
	var pe *agent.ProviderError
	var oe *agent.OutputError
	switch {
	case errors.As(err, &oe):
		return agent.Event{Type: agent.EventError, Code: agent.CodeOutputInvalid, Content: "the final answer does not match outputFormat: " + oe.Reason,
			Hint: "the model was asked once to repair it; simplify the schema or say more about the expected output in the prompt"}
	case errors.As(err, &pe):
		a.log.Warn("run: provider failed", "req", reqID, "provider", pe.Provider, "status", pe.Status, "err", pe.Message)
		msg := pe.Message
		if pe.Status != 0 {
			msg = fmt.Sprintf("%s answered %d: %s", pe.Provider, pe.Status, pe.Message)
		}
		return agent.Event{Type: agent.EventError, Code: agent.CodeProvider, Content: msg, Hint: providerHint(pe)}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return agent.Event{Type: agent.EventError, Code: agent.CodeTimeout, Content: "the run exceeded its timeout",
			Hint: "raise timeout (at most 3600 seconds) or lower maxTurns"}
	case errors.Is(err, context.Canceled):
		return agent.Event{Type: agent.EventError, Code: agent.CodeAgent, Content: "the run was cancelled"}
	}
	a.log.Error("run failed", "req", reqID, "err", err)
	return agent.Event{Type: agent.EventError, Code: agent.CodeSandbox, Content: httpx.PublicMessage(err, reqID),
		Hint: "the sandbox failed; the run's sandbox was deleted: retry the query"}
}

func providerHint(pe *agent.ProviderError) string {
	switch {
	case pe.Status == http.StatusUnauthorized || pe.Status == http.StatusForbidden:
		return "check the provider key (the server's environment or apiKeys)"
	case pe.Status == http.StatusTooManyRequests:
		return "rate limited after retries: retry later"
	case pe.Status >= 500 || pe.Status == 0:
		return "the provider is failing or overloaded: retry later"
	case pe.Status == http.StatusNotFound:
		return "check the model name"
	}
	return ""
}
