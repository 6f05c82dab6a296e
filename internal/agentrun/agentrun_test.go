package agentrun

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBound(t *testing.T) {
	ev := func(n int) json.RawMessage { return json.RawMessage(`"` + strings.Repeat("x", n-2) + `"`) }
	many := make([]json.RawMessage, MaxEvents+5)
	for i := range many {
		many[i] = ev(10)
	}
	big := []json.RawMessage{ev(MaxLogBytes / 2), ev(MaxLogBytes / 2), ev(10)}
	for _, c := range []struct {
		name          string
		in            []json.RawMessage
		kept, dropped int
	}{
		{"none", nil, 0, 0},
		{"few", many[:3], 3, 0},
		{"too many", many, MaxEvents, 5},
		{"too large", big, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, dropped := Bound(c.in)
			if len(out) != c.kept || dropped != c.dropped {
				t.Errorf("kept %d dropped %d, want %d %d", len(out), dropped, c.kept, c.dropped)
			}
			if len(out) > 0 && &out[len(out)-1][0] != &c.in[len(c.in)-1][0] {
				t.Error("the newest event was not kept")
			}
		})
	}
}
