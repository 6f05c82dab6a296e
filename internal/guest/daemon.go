package guest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"golang.org/x/net/http2"

	"github.com/paddock/paddock/internal/guestproto"
	"golang.org/x/net/http2/h2c"
	"golang.org/x/sys/unix"
)

// InheritedListener returns the listener the driver passed in, named by guestproto.ListenFDEnv. The host
// creates the socket so that the sandbox never controls a path the host dials.
func InheritedListener() (net.Listener, error) {
	s := os.Getenv(guestproto.ListenFDEnv)
	if s == "" {
		return nil, fmt.Errorf("%s is not set: the guest must be started by a Paddock driver", guestproto.ListenFDEnv)
	}
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not a file descriptor", guestproto.ListenFDEnv, s)
	}
	f := os.NewFile(uintptr(fd), "guest-listener")
	ln, err := net.FileListener(f)
	_ = f.Close() // FileListener dup()s the fd
	if err != nil {
		return nil, fmt.Errorf("use inherited listener fd %d: %w", fd, err)
	}
	return ln, nil
}

// Harden makes the guest non-dumpable, so that processes in the sandbox (even root without
// CAP_SYS_PTRACE) cannot read its memory through /proc/1/mem or attach to it.
func Harden() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", err)
	}
	return nil
}

// idleQuiet is how long the guest must go without requests before it hands free memory back.
const idleQuiet = 2 * time.Second

// Serve answers guest requests on ln (HTTP/1.1 and h2c) until ctx ends, then shuts down.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	var trim idleTrim
	go trim.run(ctx, idleQuiet)
	srv := &http.Server{
		Handler:           h2c.NewHandler(trim.wrap(h), &http2.Server{}),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return nil
}
