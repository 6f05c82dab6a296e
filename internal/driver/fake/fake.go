// Package fake is an in-memory sandbox.Driver for fast tests: each "sandbox" is a real guest
// served in-process on a unix socket, but processes run on the host without any isolation.
// Never use it for untrusted code.
package fake

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
)

// Driver is the fake driver. Safe for concurrent use.
type Driver struct {
	dir     string
	log     *slog.Logger
	mu      sync.Mutex
	units   map[string]*unit
	volumes map[string]sandbox.Volume
	shared  bool // other processes' drivers share dir (NewShared)
}

var (
	_ sandbox.Driver      = (*Driver)(nil)
	_ sandbox.Pauser      = (*Driver)(nil)
	_ sandbox.Networker   = (*Driver)(nil)
	_ sandbox.ExitWatcher = (*Driver)(nil)
	_ sandbox.DiskLimiter = (*Driver)(nil)
)

type unit struct {
	spec  sandbox.InstanceSpec
	state sandbox.State
	srv   *http.Server
	stop  func() // stops the guest's processes and watchers
	watch *exitWatch
}

// exitWatch is a WatchExit registration; its address tells a replaced one apart.
type exitWatch struct {
	exited func(id string)
	ended  func() error // the watch's ctx.Err: a crash after it ended is not reported
}

// New returns a fake driver keeping its sockets in dir (keep it short: unix socket paths are
// limited to 108 bytes).
func New(dir string, logger *slog.Logger) (*Driver, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Driver{dir: dir, log: logger, units: map[string]*unit{}, volumes: map[string]sandbox.Volume{}}, nil
}

// NewShared is New for several processes (replicas) that share dir: each serves the guests
// of the units it made, and the others reach them through their sockets there. Dial works
// on any unit; List lists other processes' units too (stopped once their process is gone,
// which leaves their socket behind); Delete of another process's
// unit removes its socket (the unit is then unreachable, and its processes end with their
// process); Stop and Start of one are refused. Units die with the process that made them.
func NewShared(dir string, logger *slog.Logger) (*Driver, error) {
	d, err := New(dir, logger)
	if err != nil {
		return nil, err
	}
	d.shared = true
	return d, nil
}

// foreign reports whether id is a running unit of another process sharing dir.
func (d *Driver) foreign(id string) bool {
	if _, ok := d.units[id]; ok || !d.shared {
		return false
	}
	_, err := os.Stat(d.socket(id))
	return err == nil
}

// Name implements sandbox.Driver.
func (d *Driver) Name() string { return "fake" }

// CheckDiskLimit implements sandbox.DiskLimiter: the fake records Resources.DiskMB, as it
// records the other limits, so that surfaces can be tested with it.
func (d *Driver) CheckDiskLimit(sandbox.InstanceSpec) error { return nil }

// Create implements sandbox.Driver.
func (d *Driver) Create(_ context.Context, spec sandbox.InstanceSpec) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if spec.ID == "" {
		return errdefs.InvalidArgument("instance ID is required")
	}
	if _, ok := d.units[spec.ID]; ok {
		return errdefs.AlreadyExists("unit %s already exists", spec.ID)
	}
	if err := d.checkMounts(spec.Mounts); err != nil {
		return err
	}
	d.units[spec.ID] = &unit{spec: spec, state: sandbox.StateStopped}
	return nil
}

// Start implements sandbox.Driver: it serves a fresh guest on <dir>/<id>.sock.
func (d *Driver) Start(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	if u.state != sandbox.StateStopped {
		return errdefs.FailedPrecondition("unit %s is %s", id, u.state)
	}
	sock := d.socket(id)
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen %s: %w", sock, err)
	}
	settings := guestenv.New(fmt.Sprint(u.spec.Security.UID))
	h, svc := guest.NewHandler(settings, guest.DirectReaper(), d.log.With("sandbox", id))
	u.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	u.stop = func() { svc.Shutdown(0) }
	srv := u.srv // halt clears u.srv, perhaps before this goroutine runs
	go func() { _ = srv.Serve(ln) }()
	u.state = sandbox.StateRunning
	return nil
}

// Stop implements sandbox.Driver.
func (d *Driver) Stop(ctx context.Context, id string, _ time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	d.halt(ctx, u)
	return nil
}

func (d *Driver) halt(ctx context.Context, u *unit) {
	u.watch = nil
	if u.srv == nil {
		return
	}
	u.stop()
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = u.srv.Shutdown(sctx)
	_ = u.srv.Close()
	u.srv, u.stop = nil, nil
	u.state = sandbox.StateStopped
	_ = os.Remove(d.socket(u.spec.ID))
}

// Delete implements sandbox.Driver.
func (d *Driver) Delete(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.units[id]
	if !ok {
		if d.foreign(id) {
			_ = os.Remove(d.socket(id))
		}
		return nil
	}
	d.halt(ctx, u)
	delete(d.units, id)
	return nil
}

// Stats implements sandbox.Driver with a zero reading.
func (d *Driver) Stats(_ context.Context, id string) (*sandbox.Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return nil, err
	}
	if u.state == sandbox.StateStopped {
		return nil, errdefs.FailedPrecondition("unit %s is not running", id)
	}
	return &sandbox.Stats{Time: time.Now(), MemoryLimit: uint64(u.spec.Resources.MemoryMB) << 20,
		PidsLimit: uint64(u.spec.Resources.Pids)}, nil
}

// List implements sandbox.Driver.
func (d *Driver) List(context.Context) ([]sandbox.Instance, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]sandbox.Instance, 0, len(d.units))
	for id, u := range d.units {
		out = append(out, sandbox.Instance{ID: id, State: u.state, Labels: u.spec.Labels})
	}
	if d.shared {
		socks, _ := filepath.Glob(filepath.Join(d.dir, "*.sock"))
		for _, s := range socks {
			id := strings.TrimSuffix(filepath.Base(s), ".sock")
			if _, ok := d.units[id]; !ok {
				out = append(out, sandbox.Instance{ID: id, State: foreignState(s)})
			}
		}
	}
	return out, nil
}

// foreignState is the state of another process's unit: running while its guest's socket
// accepts connections, stopped once the process that served it is gone (its socket stays).
func foreignState(sock string) sandbox.State {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return sandbox.StateStopped
	}
	_ = c.Close()
	return sandbox.StateRunning
}

// Dial implements sandbox.Driver.
func (d *Driver) Dial(ctx context.Context, id string) (net.Conn, error) {
	d.mu.Lock()
	state := sandbox.StateRunning // a foreign unit is running while its socket is there
	u, err := d.get(id)
	if err == nil {
		state = u.state // read under the lock: halt changes it
	} else if d.foreign(id) {
		err = nil
	}
	d.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if state == sandbox.StateStopped {
		return nil, errdefs.Unavailable("unit %s is not running", id)
	}
	var dl net.Dialer
	conn, err := dl.DialContext(ctx, "unix", d.socket(id))
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("dial the guest of %s: %w", id, ctx.Err())
	}
	if err != nil {
		return nil, sandbox.GuestUnreachable(fmt.Errorf("dial the guest of %s: %w", id, err))
	}
	return conn, nil
}

// WatchExit implements sandbox.ExitWatcher. A fake unit's init exits unasked only through
// Crash.
func (d *Driver) WatchExit(ctx context.Context, id string, exited func(id string)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	if u.state == sandbox.StateStopped {
		return errdefs.FailedPrecondition("unit %s is not running", id)
	}
	w := &exitWatch{exited: exited, ended: ctx.Err}
	u.watch = w
	context.AfterFunc(ctx, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if u.watch == w {
			u.watch = nil
		}
	})
	return nil
}

// Crash stops a running unit as if its init had died: the guest stops answering, the unit is
// listed as stopped, and its exit watch (if any) is told.
func (d *Driver) Crash(id string) error {
	d.mu.Lock()
	u, err := d.get(id)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	w := u.watch
	d.halt(context.Background(), u)
	d.mu.Unlock()
	if w != nil && w.ended() == nil {
		go w.exited(id)
	}
	return nil
}

// Unplug makes the guest of a running unit stop answering while the unit stays listed as
// running and no exit is reported, as when a guest hangs or its socket is removed: its
// server closes and its socket goes away. Its processes keep running until Stop or Delete.
func (d *Driver) Unplug(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	if u.srv == nil {
		return errdefs.FailedPrecondition("unit %s is not running", id)
	}
	_ = u.srv.Close() // which removes the socket too
	if err := os.Remove(d.socket(id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// Dir is the directory of the units' sockets.
func (d *Driver) Dir() string { return d.dir }

// Pause implements sandbox.Pauser. Processes are not actually frozen.
func (d *Driver) Pause(_ context.Context, id string) error {
	return d.transition(id, sandbox.StateRunning, sandbox.StatePaused)
}

// Resume implements sandbox.Pauser.
func (d *Driver) Resume(_ context.Context, id string) error {
	return d.transition(id, sandbox.StatePaused, sandbox.StateRunning)
}

func (d *Driver) transition(id string, from, to sandbox.State) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	if u.state != from {
		return errdefs.FailedPrecondition("unit %s is %s, not %s", id, u.state, from)
	}
	u.state = to
	return nil
}

func (d *Driver) get(id string) (*unit, error) {
	u, ok := d.units[id]
	if !ok {
		return nil, errdefs.NotFound("unit %s not found", id)
	}
	return u, nil
}

// SetEgress implements sandbox.Networker: it validates and records the policy (fake units
// have no network to enforce it on).
func (d *Driver) SetEgress(_ context.Context, id string, p sandbox.EgressPolicy) error {
	if err := netpolicy.Validate(p); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return err
	}
	if u.spec.Network != sandbox.NetworkEgress {
		return errdefs.FailedPrecondition("unit %s has no network (mode %q)", id, u.spec.Network)
	}
	u.spec.Egress = p
	return nil
}

// Egress returns the policy last set on id (for tests).
func (d *Driver) Egress(id string) (sandbox.EgressPolicy, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, err := d.get(id)
	if err != nil {
		return sandbox.EgressPolicy{}, err
	}
	return u.spec.Egress, nil
}

func (d *Driver) socket(id string) string { return filepath.Join(d.dir, id+".sock") }
