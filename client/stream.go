package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/paddock/paddock/apitype"
)

// Event is one server-sent event of /run/stream or /exec/stream.
type Event struct {
	Type     string // started, progress, output, done, error
	Sandbox  string // started
	Stage    string // progress
	Content  string // output
	Stream   string // output: stdout or stderr
	ExitCode int    // done
	Reason   string // done, when the command did not exit normally
	Message  string // error
	// Data is the event's JSON as sent: progress events of stage "pulling" carry a
	// PullProgress (see Event.PullProgress), the done event of a streamed pull an Image.
	Data json.RawMessage
}

// PullProgress reports whether ev is a pull update and returns it.
func (ev Event) PullProgress() (PullProgress, bool) {
	var p PullProgress
	if ev.Type != "progress" || ev.Stage != "pulling" || json.Unmarshal(ev.Data, &p) != nil {
		return p, false
	}
	return p, true
}

// RunStream runs a command in a fresh sandbox and calls fn for every event as it arrives.
func (c *Client) RunStream(ctx context.Context, req RunRequest, fn func(Event) error) error {
	return c.stream(ctx, "/run/stream", req, fn)
}

// ExecStream runs a command in an existing sandbox, calling fn for every event.
func (c *Client) ExecStream(ctx context.Context, name string, req ExecRequest, fn func(Event) error) error {
	return c.stream(ctx, "/sandboxes/"+esc(name)+"/exec/stream", req, fn)
}

func (c *Client) stream(ctx context.Context, path string, req any, fn func(Event) error) error {
	resp, err := c.send(ctx, "POST", path, req, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		var env apitype.Envelope[json.RawMessage]
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env)
		return &Error{Status: resp.StatusCode, Message: env.Error}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var typ string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev, err := parseEvent(typ, []byte(strings.TrimPrefix(line, "data: ")))
			if err != nil {
				return fmt.Errorf("bad event %q: %w", line, err)
			}
			if err := fn(ev); err != nil {
				return err
			}
			if typ == "done" || typ == "error" {
				return nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("stream ended without a done event")
}

// parseEvent decodes an event's data as the apitype body its name stands for.
func parseEvent(typ string, data []byte) (Event, error) {
	ev := Event{Type: typ, Data: json.RawMessage(data)}
	var err error
	switch typ {
	case "started":
		var d apitype.StreamStarted
		err = json.Unmarshal(data, &d)
		ev.Sandbox = d.Sandbox
	case "progress":
		var d apitype.StreamProgress
		err = json.Unmarshal(data, &d)
		ev.Stage = d.Stage
	case "output":
		var d apitype.StreamOutput
		err = json.Unmarshal(data, &d)
		ev.Content, ev.Stream = d.Content, d.Stream
	case "done": // a pull's done event carries an Image instead, which leaves these zero
		var d apitype.StreamDone
		err = json.Unmarshal(data, &d)
		ev.ExitCode, ev.Reason = d.ExitCode, d.Reason
	case "error":
		var d apitype.StreamError
		err = json.Unmarshal(data, &d)
		ev.Message = d.Message
	}
	return ev, err
}
