package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestproto"
)

func newGuestCmd() *cobra.Command {
	var listen, copyTo string
	cmd := &cobra.Command{
		Use:    "guest",
		Short:  "In-sandbox init and guest API (started by the driver, never by hand)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if copyTo != "" {
				return guest.CopySelf(copyTo)
			}
			guest.IgnoreSignals() // first: until then a signal from inside the sandbox kills it
			logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if err := guest.BlockFaultSignals(); err != nil { // before any process starts
				logger.Warn("guest: queued fault signals stay deliverable", "err", err)
			}
			if err := guest.Harden(); err != nil {
				logger.Warn("harden guest", "err", err)
			}
			ln, err := guestListener(listen)
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
	cmd.Flags().StringVar(&listen, "listen", "", "listen on this TCP address (e.g. :49983) instead of the inherited socket; "+
		"connections must present the token in "+guestproto.TokenEnv)
	cmd.Flags().StringVar(&copyTo, "copy-to", "", "copy this binary to the path and exit (a pod's init container installs the guest so)")
	return cmd
}

// guestListener is the listener the driver passed in or, with addr, a TCP listener whose
// connections must present the token of guestproto.TokenEnv, which it removes from the
// environment so that no process of the sandbox inherits it.
func guestListener(addr string) (net.Listener, error) {
	if addr == "" {
		return guest.InheritedListener()
	}
	token := os.Getenv(guestproto.TokenEnv)
	if err := os.Unsetenv(guestproto.TokenEnv); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New(guestproto.TokenEnv + " is not set: a guest listening on TCP needs its connection token")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return guest.TokenListener(ln, token)
}

// guestShutdownGrace is how long processes get between SIGTERM and SIGKILL when the guest
// stops serving on its own (its listener failed).
const guestShutdownGrace = 3 * time.Second
