package sandcaster

import (
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/agent"
)

// trimHistory cuts only before a prompt, so a tool result never loses its call.
func TestTrimHistory(t *testing.T) {
	p := func(s string) agent.Message { return agent.Message{Role: agent.RoleUser, Text: s} }
	call := agent.Message{Role: agent.RoleAssistant, Calls: []agent.ToolCall{{ID: "c"}}}
	res := agent.Message{Role: agent.RoleUser, Results: []agent.ToolResult{{CallID: "c"}}}
	ans := func(s string) agent.Message { return agent.Message{Role: agent.RoleAssistant, Text: s} }
	conv := []agent.Message{p("one"), call, res, ans("a1"), p("two"), ans("a2"), p("three"), call, res, call, res, ans("a3")}
	names := func(msgs []agent.Message) string {
		var out []string
		for _, m := range msgs {
			switch {
			case m.Text != "":
				out = append(out, m.Text)
			case len(m.Calls) > 0:
				out = append(out, "call")
			default:
				out = append(out, "result")
			}
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		limit int
		want  string
	}{
		{50, "one call result a1 two a2 three call result call result a3"},
		{8, "two a2 three call result call result a3"},
		{7, "three call result call result a3"},
		{6, "three call result call result a3"}, // the newest exchange alone is longer: kept whole
		{1, "three call result call result a3"},
	} {
		if got := names(trimHistory(conv, c.limit)); got != c.want {
			t.Errorf("limit %d: %s, want %s", c.limit, got, c.want)
		}
	}
}
