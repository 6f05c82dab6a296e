package providertest

import (
	"fmt"
	"net/http"
	"testing"
)

// OpenAI is a double of OpenAI's POST /chat/completions with "stream": true (under any base
// path, as OpenAI-compatible servers mount it).
type OpenAI struct{ *double }

// NewOpenAI starts a double answering turns in order.
func NewOpenAI(t testing.TB, turns ...Turn) *OpenAI {
	o := &OpenAI{}
	o.double = newDouble(t, turns, o.serve)
	return o
}

func (o *OpenAI) serve(w http.ResponseWriter, r *http.Request, turn Turn) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		o.t.Errorf("openai double: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if turn.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		if turn.RetryAfter != "" {
			w.Header().Set("retry-after-ms", turn.RetryAfter)
		}
		w.WriteHeader(turn.Status)
		fmt.Fprint(w, mustJSON(map[string]any{"error": map[string]any{"message": turn.Message, "type": turn.ErrorType, "param": nil, "code": nil}}))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	model, _ := o.Requests()[len(o.Requests())-1].Body["model"].(string)
	chunk := func(choices []any, extra map[string]any) {
		c := map[string]any{"id": "chatcmpl-double", "object": "chat.completion.chunk", "created": 1767225600,
			"model": model, "system_fingerprint": "fp_double", "choices": choices}
		for k, v := range extra {
			c[k] = v
		}
		fmt.Fprintf(w, "data: %s\n\n", mustJSON(c))
		f.Flush()
	}
	choice := func(delta map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}
	}
	chunk(choice(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil), nil)
	for i, part := range halves(turn.Text) {
		if part == "" {
			continue
		}
		chunk(choice(map[string]any{"content": part}, nil), nil)
		if i == 0 && turn.StreamError != "" {
			fmt.Fprintf(w, "data: %s\n\n", mustJSON(map[string]any{"error": map[string]any{"message": turn.StreamError, "type": "server_error"}}))
			f.Flush()
			return
		}
		if i == 0 && turn.Hold {
			o.hold(r)
			return
		}
	}
	for i, c := range turn.Calls {
		chunk(choice(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": ""}}}}, nil), nil)
		for _, part := range halves(c.Input) {
			chunk(choice(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": part}}}}, nil), nil)
		}
	}
	finish := "stop"
	if len(turn.Calls) > 0 {
		finish = "tool_calls"
	}
	chunk(choice(map[string]any{}, finish), nil)
	chunk([]any{}, map[string]any{"usage": map[string]any{"prompt_tokens": turn.InputTokens, "completion_tokens": turn.OutputTokens,
		"total_tokens": turn.InputTokens + turn.OutputTokens}})
	fmt.Fprint(w, "data: [DONE]\n\n")
	f.Flush()
}
