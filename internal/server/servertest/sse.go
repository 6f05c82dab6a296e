package servertest

import (
	"bufio"
	"bytes"
	"strings"
)

// Event is one server-sent event.
type Event struct {
	Name string
	Data string
}

// Events parses a text/event-stream body.
func Events(body []byte) []Event {
	var out []Event
	var cur Event
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Name != "" || cur.Data != "" {
				out = append(out, cur)
			}
			cur = Event{}
		case strings.HasPrefix(line, "event: "):
			cur.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Data += strings.TrimPrefix(line, "data: ")
		}
	}
	if cur.Name != "" || cur.Data != "" {
		out = append(out, cur)
	}
	return out
}
