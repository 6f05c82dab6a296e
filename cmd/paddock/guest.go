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
			settings := guestenv.New(os.Getenv(guest.DefaultUIDEnv))
			h := guest.Handler(guest.Config{Settings: settings, Logger: logger})
			return guest.Serve(cmd.Context(), ln, h, logger)
		},
	}
}
