package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

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
			h, svc := guest.NewHandler(settings, guest.Reaper(), logger)
			ctx, stop := context.WithCancel(cmd.Context())
			defer stop()
			go relaySignals(ctx, svc, stop)
			err = guest.Serve(ctx, ln, h, logger)
			svc.Shutdown(guestShutdownGrace)
			return err
		},
	}
}

// guestShutdownGrace is how long processes get between SIGTERM and SIGKILL when the sandbox
// stops. The driver's own grace period bounds it from outside.
const guestShutdownGrace = 3 * time.Second

// relaySignals passes job-control and user signals on to the sandbox's processes; SIGTERM
// and SIGINT also shut the guest down (PID 1 in a pid namespace gets no default handlers).
func relaySignals(ctx context.Context, svc *guest.Services, shutdown func()) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-ch:
			sig := s.(syscall.Signal)
			if sig == syscall.SIGTERM || sig == syscall.SIGINT {
				shutdown()
				return
			}
			svc.Forward(sig)
		}
	}
}
