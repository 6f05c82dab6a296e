package main

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/guest/guestenv"
)

func newGuestCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "guest",
		Short:  "In-sandbox init and guest API (started by the driver, never by hand)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if err := guest.Harden(); err != nil {
				logger.Warn("harden guest", "err", err)
			}
			ln, err := guest.InheritedListener()
			if err != nil {
				return err
			}
			settings := guestenv.New(os.Getenv(guestenv.DefaultUIDEnv))
			h, stop := guest.NewHandler(settings, guest.Reaper(), logger)
			// The driver stops a sandbox with SIGTERM to PID 1: pass it on to every process,
			// give them a moment, then end the rest.
			err = guest.Serve(cmd.Context(), ln, h, logger)
			stop()
			return err
		},
	}
}
