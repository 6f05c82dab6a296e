package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
)

// keystrokeTerm is one side of the keystroke benchmark: a terminal in a sandbox running cat
// (the terminal's own echo answers each keystroke), which sends input and reads output.
type keystrokeTerm interface {
	send(data string) error
	recv() (string, error)
}

// asTerm is Agent-Sandbox's terminal WebSocket.
type asTerm struct {
	ctx context.Context
	ws  *websocket.Conn
}

func (a asTerm) send(data string) error {
	return wsjson.Write(a.ctx, a.ws, termMsg{Type: "input", Data: data})
}

func (a asTerm) recv() (string, error) {
	for {
		var m termMsg
		if err := wsjson.Read(a.ctx, a.ws, &m); err != nil {
			return "", err
		}
		if m.Type == "output" {
			return m.Data, nil
		}
	}
}

// attachTerm is the native attach WebSocket, through the Go client.
type attachTerm struct{ att *client.Attachment }

func (n attachTerm) send(data string) error {
	return n.att.Send(client.AttachMessage{Type: "stdin", Data: []byte(data)})
}

func (n attachTerm) recv() (string, error) {
	for {
		m, err := n.att.Receive()
		if err != nil {
			return "", err
		}
		if len(m.Data) > 0 {
			return string(m.Data), nil
		}
	}
}

// readUntil reads output until what came holds want.
func readUntil(b *testing.B, term keystrokeTerm, want string) {
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		s, err := term.recv()
		if err != nil {
			b.Fatalf("read: %v (waiting for %q, got %q)", err, want, got.String())
		}
		got.WriteString(s)
	}
}

// benchKeystrokes turns the shell into cat, then times each keystroke from its send to its
// echo. Every 60 keystrokes a newline (untimed) hands the line to cat, so the terminal's
// line stays short.
func benchKeystrokes(b *testing.B, term keystrokeTerm) {
	// Replace the shell by cat, and wait until it says so: from then on the terminal is in
	// canonical mode with echo on (the shell's line editor restored it), and every keystroke
	// is echoed by the terminal at once. The marker is computed so that the echo of the
	// command line cannot pass for it.
	if err := term.send("exec sh -c 'echo CAT-$((6*7)); exec cat'\n"); err != nil {
		b.Fatal(err)
	}
	readUntil(b, term, "CAT-42")
	var ds []time.Duration
	var line strings.Builder
	for b.Loop() {
		ch := string(rune('a' + len(ds)%26))
		start := time.Now()
		if err := term.send(ch); err != nil {
			b.Fatal(err)
		}
		readUntil(b, term, ch)
		ds = append(ds, time.Since(start))
		if line.WriteString(ch); line.Len() == 60 {
			if err := term.send("\n"); err != nil {
				b.Fatal(err)
			}
			readUntil(b, term, line.String()+"\r\n")
			line.Reset()
		}
	}
	reportLatencies(b, ds)
}

// BenchmarkTerminalKeystroke measures keystroke echo latency on real runc: one character
// sent, timed until the terminal echoes it, over Agent-Sandbox's terminal WebSocket
// (GET /api/v1/terminal/sandbox/{name}/ws) and, as the baseline, the native attach
// WebSocket (GET /sandboxes/{name}/exec/attach), in the same sandbox. Run with
// -benchtime=300x for a few hundred keystrokes.
func BenchmarkTerminalKeystroke(b *testing.B) {
	s := newTestServer(b, func(c *config.Config) { c.PoolSize = 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := client.New(s.url, testKey)
	if _, err := c.CreateSandbox(ctx, client.CreateRequest{Name: "keys"}); err != nil {
		b.Fatal(err)
	}
	b.Run("agent-sandbox-ws", func(b *testing.B) {
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/api/v1/terminal/sandbox/keys/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testKey}}})
		if err != nil {
			b.Fatal(err)
		}
		defer ws.CloseNow()
		for {
			var m termMsg
			if err := wsjson.Read(ctx, ws, &m); err != nil {
				b.Fatal(err)
			}
			if m.Type == "ready" {
				break
			}
		}
		benchKeystrokes(b, asTerm{ctx: ctx, ws: ws})
	})
	b.Run("native-attach", func(b *testing.B) {
		att, err := c.Attach(ctx, "keys", client.AttachRequest{Command: []string{"sh"}, TTY: true, Rows: 24, Cols: 80})
		if err != nil {
			b.Fatal(err)
		}
		defer att.Close()
		benchKeystrokes(b, attachTerm{att: att})
	})
}
