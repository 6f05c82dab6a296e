package sandcaster_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent"
	"github.com/paddock/paddock/internal/agent/providertest"
)

// answerSchema is the outputFormat of the structured-output tests.
var answerSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"answer": map[string]any{"type": "integer"},
		"unit":   map[string]any{"type": "string", "enum": []string{"apples", "pears"}},
	},
	"required":             []string{"answer", "unit"},
	"additionalProperties": false,
}

// A valid final answer (in a code fence) is the result's structuredOutput; the model was told
// the schema in the system prompt.
func TestQueryStructuredOutputValid(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "```json\n{\"answer\": 42, \"unit\": \"apples\"}\n```"})
	s := newServer(t, anth, nil)
	status, evs, raw := query(t, s, map[string]any{"prompt": "count", "outputFormat": answerSchema})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	res := last(t, evs)
	got, _ := json.Marshal(res.StructuredOutput)
	if res.Type != "result" || res.Subtype != "success" || string(got) != `{"answer":42,"unit":"apples"}` {
		t.Fatalf("result %+v (structured %s)", res, got)
	}
	if sys, _ := anth.Requests()[0].Body["system"].([]any); !strings.Contains(mustJSON(t, sys), `\"enum\":[\"apples\",\"pears\"]`) {
		t.Errorf("the system prompt does not carry the schema: %s", mustJSON(t, anth.Requests()[0].Body["system"]))
	}
	noSandboxes(t, s)
}

// The wrapper form {"type": "json_schema", "schema": ...} of upstream's examples works too,
// through the OpenAI double; an invalid first answer gets one repair turn that says what
// failed, and the repaired answer is the structured output.
func TestQueryStructuredOutputRepaired(t *testing.T) {
	oai := providertest.NewOpenAI(t,
		providertest.Turn{Text: `{"answer": "many", "unit": "apples"}`, InputTokens: 10, OutputTokens: 5},
		providertest.Turn{Text: `{"answer": 7, "unit": "pears"}`, InputTokens: 20, OutputTokens: 5},
	)
	s := newServer(t, nil, oai)
	status, evs, raw := query(t, s, map[string]any{"prompt": "count", "model": "gpt-4o",
		"outputFormat": map[string]any{"type": "json_schema", "schema": answerSchema}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	want := "system/sandbox_created system/init assistant/delta assistant/delta assistant/complete warning " +
		"assistant/delta assistant/delta assistant/complete result/success"
	if got := kinds(evs); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
	res := last(t, evs)
	if got := mustJSON(t, res.StructuredOutput); got != `{"answer":7,"unit":"pears"}` || *res.NumTurns != 2 || *res.InputTokens != 30 {
		t.Fatalf("result %+v (structured %s)", res, got)
	}
	reqs := oai.Requests()
	msgs := mustJSON(t, reqs[1].Body["messages"])
	if !strings.Contains(msgs, "did not match the required output schema") || !strings.Contains(msgs, "answer") {
		t.Errorf("the repair turn does not say what failed: %s", msgs)
	}
}

// An invalid answer in the last turn maxTurns allows is an error at once.
func TestQueryStructuredOutputNoTurnLeft(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "forty-two"})
	s := newServer(t, anth, nil)
	_, evs, raw := query(t, s, map[string]any{"prompt": "count", "maxTurns": 1, "outputFormat": answerSchema})
	if e := last(t, evs); e.Type != "error" || e.Code != agent.CodeOutputInvalid || !strings.Contains(e.Content, "maxTurns") {
		t.Fatalf("events %s", raw)
	}
}

// Invalid twice: an error event with the code, no result, the sandbox gone.
func TestQueryStructuredOutputInvalidTwice(t *testing.T) {
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "It is 42 apples."},
		providertest.Turn{Text: `{"answer": 42}`},
	)
	s := newServer(t, anth, nil)
	status, evs, raw := query(t, s, map[string]any{"prompt": "count", "outputFormat": answerSchema})
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	e := last(t, evs)
	if e.Type != "error" || e.Code != agent.CodeOutputInvalid || !strings.Contains(e.Content, "unit") || e.Hint == "" {
		t.Fatalf("last event %+v", e)
	}
	for _, ev := range evs {
		if ev.Type == "result" {
			t.Errorf("a result event: %+v", ev)
		}
	}
	if n := len(anth.Requests()); n != 2 {
		t.Errorf("%d provider requests, want 2", n)
	}
	noSandboxes(t, s)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
