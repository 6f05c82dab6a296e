package agent

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOutputSchemaCheck(t *testing.T) {
	s, err := CompileSchema(map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}},
		"required": []any{"n"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		answer, want, fail string
	}{
		{`{"n": 1}`, `{"n":1}`, ""},
		{"```json\n{\"n\": 12345678901234567890}\n```", `{"n":12345678901234567890}`, ""},
		{"```\n{\"n\": 2}\n```", `{"n":2}`, ""},
		{`{"n": 1.5}`, "", "does not match"},
		{`{}`, "", "n"},
		{`here: {"n": 1}`, "", "not JSON"},
		{`{"n": 1} and more`, "", "after the JSON"},
		{"  ", "", "empty"},
	}
	for _, c := range cases {
		v, err := s.Check(c.answer)
		if c.fail != "" {
			if err == nil || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%q: err %v, want %q", c.answer, err, c.fail)
			}
			continue
		}
		got, _ := json.Marshal(v)
		if err != nil || string(got) != c.want {
			t.Errorf("%q: %s, %v", c.answer, got, err)
		}
	}
}

func TestCompileSchemaRefuses(t *testing.T) {
	for _, raw := range []string{`{"type":"objekt"}`, `{"properties":{"a":{"items":{"type":["string","text"]}}}}`,
		`{"required":"a"}`, `{"$ref":"#/nope"}`, `{"type":"json_schema","schema":5}`} {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		if _, err := CompileSchema(m); err == nil {
			t.Errorf("%s compiled", raw)
		}
	}
}

// FuzzOutputSchemaCheck feeds model answers (untrusted text) to the checker.
func FuzzOutputSchemaCheck(f *testing.F) {
	s, err := CompileSchema(map[string]any{"type": "array", "items": map[string]any{"type": "string"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{`["a"]`, "```json\n[]\n```", "```", `[1,`, "``````"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		if v, err := s.Check(answer); err == nil {
			if _, ok := v.([]any); !ok {
				t.Fatalf("valid answer %q gave %T", answer, v)
			}
		}
	})
}
