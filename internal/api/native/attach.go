package native

import (
	"context"
	"net/http"
	"sync/atomic"
	"syscall"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// maxAttachMessage bounds one message from the client.
const maxAttachMessage = 1 << 20

// attach is GET /sandboxes/{name}/exec/attach: an interactive process (optionally on a
// terminal) over a WebSocket — what `paddock exec -it` uses.
func (a *API) attach(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.m.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if sb.State != sandbox.StateRunning {
		return errdefs.FailedPrecondition("sandbox %q is %s, not running", sb.Name, sb.State)
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Clients authenticate with API key headers, which browsers cannot attach to a
		// cross-site WebSocket, so the origin needs no check.
		InsecureSkipVerify: true,
		// A browser offers its key as a second subprotocol (see auth.FromWebSocketProtocol);
		// selecting this one keeps the key out of the answer.
		Subprotocols: []string{apitype.WebSocketProtocol},
	})
	if err != nil {
		return nil // Accept answered the failed handshake itself
	}
	ws.SetReadLimit(maxAttachMessage)
	a.serveAttach(r.Context(), ws, sb)
	return nil
}

func (a *API) serveAttach(ctx context.Context, ws *websocket.Conn, sb *sandbox.Sandbox) {
	// pctx outlives the request's context (a process is killed, not abandoned, when the
	// client goes) and ends when the session does, which stops attachInput.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer ws.Close(websocket.StatusNormalClosure, "")
	send := func(m apitype.AttachMessage) error { return wsjson.Write(pctx, ws, m) }
	fail := func(err error) {
		_ = send(apitype.AttachMessage{Type: "error", Message: httpx.PublicMessage(err, httpx.RequestID(ctx))})
	}
	var start apitype.AttachRequest
	if err := wsjson.Read(pctx, ws, &start); err != nil {
		fail(errdefs.InvalidArgument("first message must be the command to run: %v", err))
		return
	}
	if len(start.Command) == 0 || start.Command[0] == "" {
		fail(errdefs.InvalidArgument("command is required"))
		return
	}
	cmd := manager.Command{Args: start.Command, Env: start.Env, Cwd: start.Cwd, User: start.User, Stdin: true}
	if start.TTY {
		cmd.TTY = &manager.TTYSize{Rows: max(start.Rows, 1), Cols: max(start.Cols, 1)}
	}
	p, err := a.m.StartProcess(pctx, sb.ID, cmd)
	if err != nil {
		fail(err)
		return
	}
	defer p.Close()
	var ended atomic.Bool
	go a.attachInput(pctx, ws, p, start.TTY, &ended)
	for {
		out, exit, err := p.Next()
		switch {
		case err != nil:
			fail(err)
			return
		case exit != nil:
			ended.Store(true)
			_ = send(apitype.AttachMessage{Type: "exit", ExitCode: exit.Code, Reason: exit.Reason})
			return
		}
		if err := send(apitype.AttachMessage{Type: "output", Stream: out.Stream, Data: out.Data}); err != nil {
			// The client went away: end the process rather than leave it running unattended.
			_ = p.Signal(context.WithoutCancel(ctx), syscall.SIGKILL)
			return
		}
	}
}

// attachInput relays the client's stdin, resizes, EOF and signals to the process.
func (a *API) attachInput(ctx context.Context, ws *websocket.Conn, p *manager.Process, tty bool, ended *atomic.Bool) {
	for {
		var m apitype.AttachMessage
		if err := wsjson.Read(ctx, ws, &m); err != nil {
			if !ended.Load() && ctx.Err() == nil {
				_ = p.Signal(ctx, syscall.SIGKILL) // the client hung up on a live process
			}
			return
		}
		switch m.Type {
		case "stdin":
			_ = p.SendStdin(ctx, m.Data, tty)
		case "resize":
			_ = p.Resize(ctx, manager.TTYSize{Rows: m.Rows, Cols: m.Cols})
		case "eof":
			if tty {
				_ = p.SendStdin(ctx, []byte{4}, true) // Ctrl-D on a terminal
			} else {
				_ = p.CloseStdin(ctx)
			}
		case "signal":
			sig := syscall.SIGTERM
			if m.Signal == "KILL" {
				sig = syscall.SIGKILL
			}
			_ = p.Signal(ctx, sig)
		}
	}
}
