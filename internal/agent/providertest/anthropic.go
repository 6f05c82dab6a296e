package providertest

import (
	"fmt"
	"net/http"
	"testing"
)

// Anthropic is a double of Anthropic's POST /v1/messages with "stream": true.
type Anthropic struct{ *double }

// NewAnthropic starts a double answering turns in order.
func NewAnthropic(t testing.TB, turns ...Turn) *Anthropic {
	a := &Anthropic{}
	a.double = newDouble(t, turns, a.serve)
	return a
}

func (a *Anthropic) serve(w http.ResponseWriter, r *http.Request, turn Turn) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		a.t.Errorf("anthropic double: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if turn.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req_double")
		if turn.RetryAfter != "" {
			w.Header().Set("retry-after-ms", turn.RetryAfter)
		}
		w.WriteHeader(turn.Status)
		fmt.Fprint(w, mustJSON(map[string]any{"type": "error", "error": map[string]any{"type": turn.ErrorType, "message": turn.Message}}))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("request-id", "req_double")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	send := func(event string, data map[string]any) {
		data["type"] = event
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, mustJSON(data))
		f.Flush()
	}
	model, _ := a.Requests()[len(a.Requests())-1].Body["model"].(string)
	send("message_start", map[string]any{"message": map[string]any{
		"id": "msg_double", "type": "message", "role": "assistant", "content": []any{}, "model": model,
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": turn.InputTokens, "output_tokens": 1}}})
	send("ping", map[string]any{})
	idx := 0
	if turn.Thinking != "" {
		send("content_block_start", map[string]any{"index": idx, "content_block": map[string]any{"type": "thinking", "thinking": "", "signature": ""}})
		for _, part := range halves(turn.Thinking) {
			send("content_block_delta", map[string]any{"index": idx, "delta": map[string]any{"type": "thinking_delta", "thinking": part}})
		}
		send("content_block_delta", map[string]any{"index": idx, "delta": map[string]any{"type": "signature_delta", "signature": "sig-double"}})
		send("content_block_stop", map[string]any{"index": idx})
		idx++
	}
	if turn.Text != "" {
		send("content_block_start", map[string]any{"index": idx, "content_block": map[string]any{"type": "text", "text": ""}})
		for i, part := range halves(turn.Text) {
			send("content_block_delta", map[string]any{"index": idx, "delta": map[string]any{"type": "text_delta", "text": part}})
			if i == 0 && turn.StreamError != "" {
				send("error", map[string]any{"error": map[string]any{"type": turn.StreamError, "message": "Overloaded"}})
				return
			}
			if i == 0 && turn.Hold {
				a.hold(r)
				return
			}
		}
		send("content_block_stop", map[string]any{"index": idx})
		idx++
	}
	for _, c := range turn.Calls {
		send("content_block_start", map[string]any{"index": idx, "content_block": map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": map[string]any{}}})
		for _, part := range halves(c.Input) {
			send("content_block_delta", map[string]any{"index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": part}})
		}
		send("content_block_stop", map[string]any{"index": idx})
		idx++
	}
	stop := "end_turn"
	if len(turn.Calls) > 0 {
		stop = "tool_use"
	}
	send("message_delta", map[string]any{"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": turn.OutputTokens}})
	send("message_stop", map[string]any{})
}
