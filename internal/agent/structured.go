package agent

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/paddock/paddock/internal/errdefs"
)

// CodeOutputInvalid is the error code of a run whose final answer did not match its output
// schema, even after the repair turn.
const CodeOutputInvalid = "STRUCTURED_OUTPUT_INVALID"

// OutputSchema is a compiled outputFormat: the JSON Schema a run's final answer must match.
// Safe for concurrent use.
type OutputSchema struct {
	text     string // the schema as JSON, for the model
	resolved *jsonschema.Resolved
}

// jsonTypes are the names JSON Schema's "type" takes.
var jsonTypes = map[string]bool{"null": true, "boolean": true, "object": true, "array": true,
	"number": true, "string": true, "integer": true}

// CompileSchema compiles an outputFormat: a JSON Schema (draft 2020-12 or draft-07), or
// the Claude Agent SDK's wrapper {"type": "json_schema", "schema": {...}} that upstream's
// examples use. A schema that does not compile is an invalid argument.
func CompileSchema(format map[string]any) (*OutputSchema, error) {
	raw := format
	if format["type"] == "json_schema" {
		inner, ok := format["schema"].(map[string]any)
		if !ok {
			return nil, errdefs.InvalidArgument(`a "json_schema" outputFormat needs a "schema" object`)
		}
		raw = inner
	}
	text, err := json.Marshal(raw)
	if err != nil {
		return nil, errdefs.InvalidArgument("not a JSON Schema: %v", err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(text, &s); err != nil {
		return nil, errdefs.InvalidArgument("not a JSON Schema: %v", err)
	}
	if err := checkTypes(&s); err != nil {
		return nil, err
	}
	resolved, err := s.Resolve(nil)
	if err != nil {
		return nil, errdefs.InvalidArgument("the schema does not compile: %v", err)
	}
	return &OutputSchema{text: string(text), resolved: resolved}, nil
}

// checkTypes refuses "type" names JSON Schema does not have, which the library accepts
// (and then fails every instance against).
func checkTypes(s *jsSchema) error {
	if s == nil {
		return nil
	}
	for _, t := range append([]string{s.Type}, s.Types...) {
		if t != "" && !jsonTypes[t] {
			return errdefs.InvalidArgument("unknown type %q (types: array, boolean, integer, null, number, object, string)", t)
		}
	}
	var kids []*jsSchema
	kids = append(kids, s.Items, s.AdditionalItems, s.Contains, s.UnevaluatedItems, s.AdditionalProperties,
		s.PropertyNames, s.UnevaluatedProperties, s.Not, s.If, s.Then, s.Else, s.ContentSchema)
	kids = append(kids, s.PrefixItems...)
	kids = append(kids, s.ItemsArray...)
	kids = append(kids, s.AllOf...)
	kids = append(kids, s.AnyOf...)
	kids = append(kids, s.OneOf...)
	for _, m := range []map[string]*jsSchema{s.Defs, s.Definitions, s.Properties, s.PatternProperties, s.DependentSchemas, s.DependencySchemas} {
		for _, k := range m {
			kids = append(kids, k)
		}
	}
	for _, k := range kids {
		if err := checkTypes(k); err != nil {
			return err
		}
	}
	return nil
}

// jsSchema is the library's schema type.
type jsSchema = jsonschema.Schema

// Instructions tell the model the schema; they go at the end of the system prompt.
func (s *OutputSchema) Instructions() string {
	return "When you have finished, your final message must be only a JSON value that matches this JSON Schema " +
		"(no prose, no code fence):\n" + s.text
}

// Check extracts the JSON value from a final answer and validates it. The error says what
// failed, in words the model can act on.
func (s *OutputSchema) Check(answer string) (any, error) {
	text := stripFence(strings.TrimSpace(answer))
	if text == "" {
		return nil, errors.New("the final message is empty")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the final message is not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the final message has text after the JSON value")
	}
	// The validator wants float64 numbers, the caller keeps the exact ones.
	var plain any
	_ = json.Unmarshal([]byte(text), &plain)
	if err := s.resolved.Validate(plain); err != nil {
		return nil, fmt.Errorf("the JSON does not match the schema: %v", err)
	}
	return v, nil
}

// stripFence removes one ```json ... ``` fence around the whole answer.
func stripFence(s string) string {
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "```"), "```")
	if i := strings.IndexByte(s, '\n'); i >= 0 && !strings.ContainsAny(s[:i], "{[\"") {
		s = s[i+1:] // the fence's language tag
	}
	return strings.TrimSpace(s)
}

// OutputError ends a run whose final answer did not match the schema after the repair turn.
type OutputError struct {
	Reason string // the last validation failure
}

func (e *OutputError) Error() string { return "structured output invalid: " + e.Reason }

// repairPrompt is the user turn that asks the model to fix its answer.
func repairPrompt(reason string) string {
	return "Your final message did not match the required output schema: " + reason +
		". Reply again with only the corrected JSON value, nothing else."
}

// finalAnswer handles a turn without tool calls: without an output schema it ends the run;
// with one, a valid answer ends it with the structured output, the first invalid one
// returns the repair turn to send, and a second invalid one ends the run with an
// *OutputError.
func (r *Run) finalAnswer(res *Result, m Message) (repair *Message, err error) {
	res.Subtype = ResultSuccess
	if r.Output == nil {
		return nil, nil
	}
	v, cerr := r.Output.Check(m.Text)
	if cerr == nil {
		res.Structured = v
		return nil, nil
	}
	if r.repaired {
		res.Subtype = ""
		return nil, &OutputError{Reason: cerr.Error()}
	}
	if maxTurns := cmp.Or(max(r.MaxTurns, 0), DefaultMaxTurns); res.NumTurns >= maxTurns {
		res.Subtype = ""
		return nil, &OutputError{Reason: cerr.Error() + " (maxTurns left no turn to repair it)"}
	}
	r.repaired = true
	if err := r.Emit(Event{Type: EventWarning, Content: "final answer does not match outputFormat; asking the model to repair it: " + cerr.Error()}); err != nil {
		return nil, err
	}
	return &Message{Role: RoleUser, Text: repairPrompt(cerr.Error())}, nil
}
