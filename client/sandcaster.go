package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/paddock/paddock/apitype"
)

// Sandcaster's wire types (docs/sandcaster.md).
type (
	// QueryRequest is an agent run to start.
	QueryRequest = apitype.QueryRequest
	// AgentEvent is one event of an agent run.
	AgentEvent = apitype.AgentEvent
	// AgentRun is a run as GET /runs lists it.
	AgentRun = apitype.AgentRun
)

// Query runs an agent (POST /query) and calls fn with each event as it arrives, until the
// run's result or error event. A refused request is an *Error with the server's message;
// an error event is not an error of Query (fn sees it). An error from fn stops the run:
// the server cancels it and deletes its sandbox.
func (c *Client) Query(ctx context.Context, req QueryRequest, fn func(AgentEvent) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // closing the stream early is how the server learns to stop
	resp, err := c.send(ctx, http.MethodPost, "/query", req, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return sandcasterError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 32<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue // the event: line repeats the data's type
		}
		var ev AgentEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("bad event %q: %w", data, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
		if ev.Type == "result" || ev.Type == "error" {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("the run's stream ended without a result or error event")
}

// AgentRuns lists the caller's agent runs, newest first (limit 1..200; 0 = the server's
// default, 20).
func (c *Client) AgentRuns(ctx context.Context, limit int) ([]AgentRun, error) {
	path := "/runs"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, sandcasterError(resp)
	}
	var runs []AgentRun
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&runs); err != nil {
		return nil, &Error{Status: resp.StatusCode, Message: fmt.Sprintf("unreadable answer: %v", err)}
	}
	return runs, nil
}

// sandcasterError reads Sandcaster's error shape, {"error": ...}.
func sandcasterError(resp *http.Response) error {
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	if body.Error == "" {
		body.Error = http.StatusText(resp.StatusCode)
	}
	return &Error{Status: resp.StatusCode, Message: body.Error}
}
