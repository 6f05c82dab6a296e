package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestproto"
)

func newGuestCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "guest",
		Short:  "In-sandbox init and guest API (started by the driver, never by hand)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			guest.IgnoreSignals() // first: until then a signal from inside the sandbox kills it
			logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if err := guest.BlockFaultSignals(); err != nil { // before any process starts
				logger.Warn("guest: queued fault signals stay deliverable", "err", err)
			}
			if err := guest.Harden(); err != nil {
				logger.Warn("harden guest", "err", err)
			}
			ln, err := guest.InheritedListener()
			if err != nil {
				return err
			}
			settings := guestenv.New(os.Getenv(guestproto.DefaultUIDEnv))
			h, svc := guest.NewHandler(settings, guest.Reaper(), logger)
			// main's context ends on SIGTERM and SIGINT, which anyone in the sandbox can send:
			// the guest ends only when the host kills it (graceful stops use POST /terminate).
			err = guest.Serve(context.WithoutCancel(cmd.Context()), ln, h, logger)
			svc.Shutdown(guestShutdownGrace)
			return err
		},
	}
}

// guestShutdownGrace is how long processes get between SIGTERM and SIGKILL when the guest
// stops serving on its own (its listener failed).
const guestShutdownGrace = 3 * time.Second
