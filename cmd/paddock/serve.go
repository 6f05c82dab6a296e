package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server"
)

func newServeCmd() *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Paddock HTTP API",
		Long: `Serve the Paddock HTTP API (agentkernel-compatible routes at the root).

Settings come from flags, PADDOCK_* environment variables and an optional JSON file
(--config); flags win over the environment, which wins over the file. 'paddock config
default' lists every setting. On first start without a configured key, an API key is
generated into <data-dir>/api-key (mode 0600). SIGTERM lets in-flight requests finish;
sandboxes keep running unless --stop-sandboxes-on-exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Load(file, cmd.Flags()); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := newLogger(cfg.LogLevel)
			if cfg.NoAuth {
				log.Warn("authentication is disabled (--no-auth): anyone who can reach " + cfg.Listen + " can run code")
			}
			// Bind first: a server that cannot have its port starts no sandbox.
			ln, err := server.Listen(cfg.Listen)
			if err != nil {
				return err
			}
			opts := server.Options{Version: version}
			if cfg.SSHListen != "" {
				if opts.SSHListener, err = server.ListenSSH(cfg.SSHListen); err != nil {
					ln.Close()
					return err
				}
			}
			srv, err := server.New(cmd.Context(), cfg, opts, log)
			if err != nil {
				ln.Close()
				if opts.SSHListener != nil {
					opts.SSHListener.Close()
				}
				return err
			}
			if srv.KeyCreated {
				fmt.Fprintf(os.Stderr, "paddock: generated an API key in %s (send it as X-API-Key)\n", srv.KeyPath)
			}
			log.Info("serving", "addr", ln.Addr().String(), "version", version)
			return srv.Serve(cmd.Context(), ln)
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "JSON config file (env PADDOCK_CONFIG)")
	if v := os.Getenv("PADDOCK_CONFIG"); v != "" {
		file = v
	}
	cfg.RegisterFlags(cmd.Flags())
	return cmd
}

// newLogger builds the one logger: JSON unless stderr is a terminal.
func newLogger(level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show configuration settings"}
	cmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print every setting with its flag, environment variable and default",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), config.Describe())
			return nil
		},
	})
	return cmd
}
