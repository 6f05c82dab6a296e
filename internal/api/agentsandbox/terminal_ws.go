package agentsandbox

import (
	"context"
	"net/http"
	"syscall"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// wsMessage is one message of Agent-Sandbox's terminal protocol, either way. The server
// sends ready, output, exit (code), error and closed; the client init and resize (cols,
// rows), input (data) and close.
type wsMessage struct {
	Type string `json:"type"`
	Data string `json:"data,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
	Code int    `json:"code,omitempty"`
}

// shell is the interactive shell the terminal runs: bash when the image has it, else sh.
var shell = []string{"sh", "-lc", "if command -v bash >/dev/null 2>&1; then exec bash -il; else exec sh -i; fi"}

// maxWSMessage bounds one message from the client.
const maxWSMessage = 1 << 20

// terminalWS is GET /api/v1/terminal/sandbox/{name}/ws: an interactive shell on a terminal
// (80x24 until the client's init says otherwise) over a WebSocket.
func (a *API) terminalWS(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		return errdefs.FailedPrecondition("sandbox %s is %s, not running", sb.Name, sb.State)
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Clients authenticate with a bearer header, which browsers cannot attach to a
		// cross-site WebSocket, so the origin needs no check.
		InsecureSkipVerify: true,
		// A browser offers its key as a second subprotocol (see auth.FromWebSocketProtocol);
		// selecting this one keeps the key out of the answer.
		Subprotocols: []string{apitype.WebSocketProtocol},
	})
	if err != nil {
		return nil // Accept answered the failed handshake itself
	}
	ws.SetReadLimit(maxWSMessage)
	defer ws.Close(websocket.StatusNormalClosure, "")
	a.serveTerminal(r.Context(), ws, sb)
	return nil
}

func (a *API) serveTerminal(ctx context.Context, ws *websocket.Conn, sb *sandbox.Sandbox) {
	// pctx outlives the request (the shell is killed, not abandoned, when the client goes)
	// and ends with the session, which stops terminalInput.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	send := func(m wsMessage) error { return wsjson.Write(pctx, ws, m) }
	p, err := a.m.StartProcess(pctx, sb.ID, manager.Command{Args: shell, Stdin: true,
		Env: map[string]string{"TERM": "xterm-256color"}, TTY: &manager.TTYSize{Rows: 24, Cols: 80}})
	if err != nil {
		_ = send(wsMessage{Type: "error", Data: httpx.PublicMessage(err, httpx.RequestID(ctx))})
		_ = send(wsMessage{Type: "exit", Code: 1})
		_ = send(wsMessage{Type: "closed"})
		return
	}
	defer p.Close()
	if send(wsMessage{Type: "ready", Data: "connected to " + sb.Name + "/" + container}) != nil {
		_ = p.Signal(pctx, syscall.SIGKILL)
		return
	}
	go a.terminalInput(pctx, ws, p, send)
	var out utf8Carry
	for {
		chunk, exit, err := p.Next()
		switch {
		case err != nil:
			_ = send(wsMessage{Type: "error", Data: httpx.PublicMessage(err, httpx.RequestID(ctx))})
			_ = send(wsMessage{Type: "exit", Code: 1})
			_ = send(wsMessage{Type: "closed"})
			return
		case exit != nil:
			if rest := out.flush(); rest != "" {
				_ = send(wsMessage{Type: "output", Data: rest})
			}
			_ = send(wsMessage{Type: "exit", Code: exit.Code})
			_ = send(wsMessage{Type: "closed"})
			return
		}
		if data := out.take(chunk.Data); data != "" {
			if send(wsMessage{Type: "output", Data: data}) != nil {
				_ = p.Signal(pctx, syscall.SIGKILL) // the client went away
				return
			}
		}
	}
}

// terminalInput relays the client's keystrokes and sizes to the shell. close, or the client
// hanging up, ends the shell (the output loop then says exit and closed).
func (a *API) terminalInput(ctx context.Context, ws *websocket.Conn, p *manager.Process, send func(wsMessage) error) {
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, ws, &m); err != nil {
			if ctx.Err() == nil {
				_ = p.Signal(ctx, syscall.SIGKILL)
			}
			return
		}
		switch m.Type {
		case "init", "resize":
			if m.Cols > 0 && m.Rows > 0 {
				_ = p.Resize(ctx, manager.TTYSize{Rows: uint32(m.Rows), Cols: uint32(m.Cols)})
			}
		case "input":
			if m.Data != "" {
				_ = p.SendStdin(ctx, []byte(m.Data), true)
			}
		case "close":
			_ = p.Signal(ctx, syscall.SIGKILL)
		default:
			_ = send(wsMessage{Type: "error", Data: "unsupported message type: " + m.Type})
		}
	}
}

// utf8Carry holds back the bytes of a character split between two chunks of output, so that
// each output message is valid UTF-8 (JSON strings would turn a split character into U+FFFD).
type utf8Carry struct{ held []byte }

// take returns what of held+b ends on a character boundary and keeps the rest.
func (c *utf8Carry) take(b []byte) string {
	buf := append(c.held, b...)
	cut := len(buf)
	// A character is at most 4 bytes: look back at most 3 for an unfinished one.
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-3; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				cut = i
			}
			break
		}
	}
	c.held = append([]byte(nil), buf[cut:]...)
	return string(buf[:cut])
}

// flush returns whatever is held.
func (c *utf8Carry) flush() string {
	s := string(c.held)
	c.held = nil
	return s
}
