package guest

import (
	"log/slog"
	"net/http"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/guest/code"
	"github.com/paddock/paddock/internal/guest/fs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/logring"
	"github.com/paddock/paddock/internal/guest/mcpserver"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
)

// Services are the guest's stateful services behind its handler.
type Services struct {
	procs *process.Service
	files *fs.Service
	code  *code.Service
	// local serves the guest's routes in-process to the MCP server's tools; Shutdown stops it.
	local *local
	// init is set when the guest is PID 1 of its own pid namespace: signals then go to every
	// process in it (kill(-1)), orphans and background jobs included.
	init bool
}

// NewHandler wires the standard guest services around settings.
func NewHandler(settings *guestenv.Settings, reaper process.Reaper, logger *slog.Logger) (http.Handler, *Services) {
	ring := logring.New(0, 0)
	svc := &Services{
		procs: process.New(process.Options{Settings: settings, Reaper: reaper, Logger: logger, Log: sandboxLog{ring}}),
		files: fs.NewService(settings, logger),
		code:  code.New(settings, reaper, logger),
		init:  os.Getpid() == 1,
	}
	h := Handler(Config{
		Settings:   settings,
		Process:    svc.procs,
		Filesystem: svc.files,
		Files:      fs.NewFilesHandler(settings, logger),
		Code:       svc.code.Handler(),
		OnInit:     func(r guestproto.InitRequest) { svc.code.Prewarm(r.Prewarm) },
		Terminate:  svc.terminateHandler(),
		Logs:       logsHandler(ring),
		MCP: func(routes http.Handler) http.Handler {
			// /files checks the access token itself: the tools' requests carry the current one.
			svc.local = serveLocal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tok := settings.AccessToken(); tok != "" {
					r.Header.Set(guestproto.AccessTokenHeader, tok)
				}
				routes.ServeHTTP(w, r)
			}))
			c := guestclient.New(svc.local.dial, "")
			return mcpserver.New(c, guestproto.Version, logger)
		},
		Logger: logger,
	})
	return h, svc
}

// Forward passes a signal on to the sandbox's processes.
func (s *Services) Forward(sig syscall.Signal) {
	if s.init {
		_ = unix.Kill(-1, sig) // from PID 1: every process of the namespace but itself
		return
	}
	s.procs.KillAll(sig)
}

// Shutdown sends SIGTERM to every process, gives them grace to exit, kills what is left and
// stops the watchers.
func (s *Services) Shutdown(grace time.Duration) {
	s.Forward(syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for s.alive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Forward(syscall.SIGKILL)
	s.code.Close()
	s.files.Close()
	if s.local != nil {
		s.local.close()
	}
}

// alive reports whether any process other than the guest remains.
func (s *Services) alive() bool {
	if s.init {
		return unix.Kill(-1, 0) == nil
	}
	return s.procs.Running() > 0
}

// Reaper returns the child reaper for this process: the PID-1 reaper (which also reaps
// orphans) when the guest is init, else one that waits only for its own children.
func Reaper() process.Reaper {
	if os.Getpid() == 1 {
		return process.NewPID1Reaper()
	}
	return process.NewDirectReaper()
}

// DirectReaper returns a reaper for guests that are not PID 1 (tests, the fake driver).
func DirectReaper() process.Reaper { return process.NewDirectReaper() }
