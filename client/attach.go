package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/apitype"
)

type (
	// AttachRequest starts an interactive process.
	AttachRequest = apitype.AttachRequest
	// AttachMessage is one message of an attach session (see the server's docs/api.md).
	AttachMessage = apitype.AttachMessage
)

// Attachment is a live interactive process. Send and Receive may be used from two
// goroutines (one each).
type Attachment struct {
	ws  *websocket.Conn
	ctx context.Context // Attach's: the session ends with it
}

// maxAttachMessage bounds one message from the server (output chunks, base64 in JSON).
const maxAttachMessage = 16 << 20

// Attach starts req in a running sandbox over a WebSocket. The session lasts as long as ctx.
func (c *Client) Attach(ctx context.Context, name string, req AttachRequest) (*Attachment, error) {
	u := c.BaseURL + "/sandboxes/" + esc(name) + "/exec/attach" // http(s) URLs dial as ws(s)
	h := http.Header{}
	if c.APIKey != "" {
		h.Set("X-API-Key", c.APIKey)
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, HTTPClient: c.HTTP})
	if err != nil {
		// The server refused the upgrade with its envelope (unknown sandbox, wrong state, key).
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			if derr := decode(resp, nil); derr != nil {
				return nil, derr
			}
		}
		return nil, fmt.Errorf("attach to %s: %w", name, err)
	}
	ws.SetReadLimit(maxAttachMessage)
	if err := wsjson.Write(ctx, ws, req); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return &Attachment{ws: ws, ctx: ctx}, nil
}

// Send sends stdin, resize, eof or signal.
func (a *Attachment) Send(m AttachMessage) error { return wsjson.Write(a.ctx, a.ws, m) }

// Receive returns the next output, exit or error message.
func (a *Attachment) Receive() (AttachMessage, error) {
	var m AttachMessage
	err := wsjson.Read(a.ctx, a.ws, &m)
	return m, err
}

// Close ends the session (a live process is killed).
func (a *Attachment) Close() error { return a.ws.Close(websocket.StatusNormalClosure, "") }
