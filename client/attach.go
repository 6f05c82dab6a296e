package client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/net/websocket"
)

// AttachRequest starts an interactive process.
type AttachRequest struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Cwd     string            `json:"cwd,omitempty"`
	User    string            `json:"user,omitempty"`
	TTY     bool              `json:"tty"`
	Rows    uint32            `json:"rows,omitempty"`
	Cols    uint32            `json:"cols,omitempty"`
}

// AttachMessage is one message of an attach session (see the server's docs/api.md).
type AttachMessage struct {
	Type     string `json:"type"`
	Data     []byte `json:"data,omitempty"`
	Stream   string `json:"stream,omitempty"`
	Rows     uint32 `json:"rows,omitempty"`
	Cols     uint32 `json:"cols,omitempty"`
	Signal   string `json:"signal,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
}

// Attachment is a live interactive process. Send and Receive may be used from two
// goroutines (one each).
type Attachment struct{ ws *websocket.Conn }

// Attach starts req in a running sandbox over a WebSocket.
func (c *Client) Attach(ctx context.Context, name string, req AttachRequest) (*Attachment, error) {
	u := strings.Replace(c.BaseURL, "http", "ws", 1) + "/sandboxes/" + esc(name) + "/exec/attach"
	cfg, err := websocket.NewConfig(u, c.BaseURL)
	if err != nil {
		return nil, err
	}
	cfg.Header = http.Header{}
	if c.APIKey != "" {
		cfg.Header.Set("X-API-Key", c.APIKey)
	}
	ws, err := cfg.DialContext(ctx)
	if err != nil {
		// Ask the plain way to get the server's error (unknown sandbox, wrong state, key).
		if _, gerr := c.GetSandbox(ctx, name); gerr != nil {
			return nil, gerr
		}
		return nil, fmt.Errorf("attach to %s: %w", name, err)
	}
	if err := websocket.JSON.Send(ws, req); err != nil {
		ws.Close()
		return nil, err
	}
	return &Attachment{ws: ws}, nil
}

// Send sends stdin, resize, eof or signal.
func (a *Attachment) Send(m AttachMessage) error { return websocket.JSON.Send(a.ws, m) }

// Receive returns the next output, exit or error message.
func (a *Attachment) Receive() (AttachMessage, error) {
	var m AttachMessage
	err := websocket.JSON.Receive(a.ws, &m)
	return m, err
}

// Close ends the session (a live process is killed).
func (a *Attachment) Close() error { return a.ws.Close() }
