package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
)

// TestAttachInteractiveShell drives a shell on a terminal through the WebSocket route with
// the Go client: type commands, resize, read the answers, exit with a code.
func TestAttachInteractiveShell(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client.New(s.url, testKey)
	if _, err := c.CreateSandbox(ctx, client.CreateRequest{Name: "tty"}); err != nil {
		t.Fatal(err)
	}
	att, err := c.Attach(ctx, "tty", client.AttachRequest{Command: []string{"sh"}, TTY: true, Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	send := func(m client.AttachMessage) {
		if err := att.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	send(client.AttachMessage{Type: "stdin", Data: []byte("stty size; echo mark-$((6*7))\n")})
	var out strings.Builder
	for !strings.Contains(out.String(), "mark-42") {
		m, err := att.Receive()
		if err != nil {
			t.Fatalf("receive: %v (so far %q)", err, out.String())
		}
		out.Write(m.Data)
	}
	if !strings.Contains(out.String(), "30 100") {
		t.Errorf("terminal size: %q", out.String())
	}
	send(client.AttachMessage{Type: "resize", Rows: 50, Cols: 120})
	send(client.AttachMessage{Type: "stdin", Data: []byte("stty size; exit 3\n")})
	for {
		m, err := att.Receive()
		if err != nil {
			t.Fatalf("receive: %v (output %q)", err, out.String())
		}
		out.Write(m.Data)
		if m.Type == "exit" {
			if m.ExitCode != 3 || !strings.Contains(out.String(), "50 120") {
				t.Errorf("exit %d, output %q", m.ExitCode, out.String())
			}
			break
		}
	}
	if _, err := c.Attach(ctx, "ghost", client.AttachRequest{Command: []string{"sh"}}); !client.IsNotFound(err) {
		t.Errorf("attach to an unknown sandbox: %v", err)
	}
}
