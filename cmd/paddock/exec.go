package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paddock/paddock/client"
)

func newExecCmd() *cobra.Command {
	var req client.ExecRequest
	var env []string
	var interactive, tty bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "exec NAME -- CMD [ARGS...]",
		Short: "Run a command in a running sandbox, streaming its output",
		Long: `Run a command in a running sandbox on a Paddock server. Output is streamed as it is
produced and the exit code is mirrored. Piped stdin is sent to the command. With -i stdin
stays connected; with -it the command gets a terminal (raw mode, resizes forwarded).`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if req.Env, err = parseEnv(env); err != nil {
				return err
			}
			if interactive || tty {
				return attachInteractive(cmd.Context(), args[0], client.AttachRequest{Command: args[1:], Env: req.Env,
					Cwd: req.Cwd, User: req.User, TTY: tty})
			}
			req.Command, req.Timeout = args[1:], timeout.Seconds()
			if !term.IsTerminal(int(os.Stdin.Fd())) {
				b, err := io.ReadAll(os.Stdin)
				if err != nil {
					return err
				}
				if len(b) > 0 {
					s := string(b)
					req.Stdin = &s
				}
			}
			return streamToTerminal(cmd.Context(), func(fn func(client.Event) error) error {
				return newClient().ExecStream(cmd.Context(), args[0], req, fn)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&env, "env", "e", nil, "environment variable K=V (repeatable)")
	f.StringVarP(&req.Cwd, "workdir", "w", "", "working directory")
	f.StringVarP(&req.User, "user", "u", "", "user")
	f.DurationVar(&timeout, "timeout", 0, "kill the command after this long")
	f.BoolVarP(&interactive, "interactive", "i", false, "keep stdin open (with -t: an interactive terminal)")
	f.BoolVarP(&tty, "tty", "t", false, "allocate a terminal")
	return cmd
}

// streamToTerminal prints a stream's output and returns the command's exit code as an
// exitError.
func streamToTerminal(ctx context.Context, run func(func(client.Event) error) error) error {
	code := 0
	err := run(func(ev client.Event) error {
		switch ev.Type {
		case "output":
			w := os.Stdout
			if ev.Stream == "stderr" {
				w = os.Stderr
			}
			_, _ = io.WriteString(w, ev.Content)
		case "done":
			code = ev.ExitCode
			if ev.Reason != "" {
				fmt.Fprintln(os.Stderr, "paddock:", ev.Reason)
			}
		case "error":
			return errors.New(ev.Message)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}
