package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/paddock/paddock/client"
)

// attachInteractive runs a command with stdin connected (and a terminal with TTY) through
// the server's attach route, and exits with the command's code.
func attachInteractive(ctx context.Context, name string, req client.AttachRequest) error {
	in := int(os.Stdin.Fd())
	if req.TTY {
		req.Cols, req.Rows = 80, 24
		if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			req.Cols, req.Rows = uint32(w), uint32(h)
		}
	}
	att, err := newClient().Attach(ctx, name, req)
	if err != nil {
		return err
	}
	defer att.Close()
	if req.TTY && term.IsTerminal(in) {
		if old, err := term.MakeRaw(in); err == nil {
			defer term.Restore(in, old)
		}
	}
	go pumpStdin(att, req.TTY)
	stop := relayResizes(att, req.TTY)
	defer stop()
	for {
		m, err := att.Receive()
		if err != nil {
			return fmt.Errorf("connection to the server ended: %w", err)
		}
		switch m.Type {
		case "output":
			w := os.Stdout
			if m.Stream == "stderr" {
				w = os.Stderr
			}
			_, _ = w.Write(m.Data)
		case "exit":
			if m.Reason != "" {
				fmt.Fprintln(os.Stderr, "paddock:", m.Reason)
			}
			if m.ExitCode != 0 {
				return &exitError{code: m.ExitCode}
			}
			return nil
		case "error":
			return errors.New(m.Message)
		}
	}
}

// pumpStdin forwards our stdin and then its end.
func pumpStdin(att *client.Attachment, tty bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			if att.Send(client.AttachMessage{Type: "stdin", Data: append([]byte(nil), buf[:n]...)}) != nil {
				return
			}
		}
		if err != nil {
			_ = att.Send(client.AttachMessage{Type: "eof"})
			return
		}
	}
}

// relayResizes forwards terminal size changes, and SIGINT/SIGTERM as TERM when there is no
// terminal to carry Ctrl-C.
func relayResizes(att *client.Attachment, tty bool) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGWINCH, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if s == syscall.SIGWINCH {
					if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil && tty {
						_ = att.Send(client.AttachMessage{Type: "resize", Rows: uint32(h), Cols: uint32(w)})
					}
					continue
				}
				_ = att.Send(client.AttachMessage{Type: "signal", Signal: "TERM"})
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
