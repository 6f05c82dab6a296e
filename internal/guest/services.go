package guest

import (
	"log/slog"
	"net/http"
	"os"
	"syscall"

	"github.com/paddock/paddock/internal/guest/fs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
)

// NewHandler wires the standard guest services around settings. stop ends every process the
// guest started and every watcher.
func NewHandler(settings *guestenv.Settings, reaper process.Reaper, logger *slog.Logger) (h http.Handler, stop func()) {
	procs := process.New(process.Options{Settings: settings, Reaper: reaper, Logger: logger})
	files := fs.NewService(settings, logger)
	h = Handler(Config{
		Settings:   settings,
		Process:    procs,
		Filesystem: files,
		Files:      fs.NewFilesHandler(settings, logger),
		Logger:     logger,
	})
	return h, func() {
		procs.KillAll(syscall.SIGKILL)
		files.Close()
	}
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
