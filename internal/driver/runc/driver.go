// Package runc is the sandbox.Driver that runs each sandbox as an OCI container with the
// runc CLI (or any runtime with the same CLI: crun, runsc). It writes bundles with the
// runtime-spec types, mounts an overlay root filesystem whose writable layer is a filesystem
// image of the sandbox's disk size (disk.go), keeps volumes on images of their own and mounts
// them through staging directories (volumes.go), and hands the guest a listening socket that
// the host created.
package runc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/usernet"
)

// Config configures the driver.
type Config struct {
	// Runtime is the OCI runtime binary: a path or a name looked up in PATH (default
	// "runc"). Any runtime with runc's CLI works (crun, runsc).
	Runtime string
	// StateDir holds one directory per sandbox, <StateDir>/<id>/: instance.json, bundle/,
	// disk.img and disk/ (or, without a disk limit, upper/ and work/), guest/ (the guest's
	// socket), guest.log and, while it runs with volumes, mounts/ (their staging mounts).
	// Required. Keep it short: <StateDir>/<id>/guest/guest.sock must fit in 107 bytes.
	StateDir string
	// DiskImageDir keeps the formatted filesystem images that sandboxes' disks are copied
	// from, one per size (default <StateDir>/.disks).
	DiskImageDir string
	// RuntimeRoot is the runtime's --root, where it keeps container state (default
	// <StateDir>/.runc, which List skips as it is no sandbox ID).
	RuntimeRoot string
	// GuestBinary is the host path of the read-only copy of the paddock binary bound into
	// every sandbox. Never the live server executable, which an upgrade replaces. Required.
	GuestBinary string
	// VolumeDir holds one directory per volume (volumes.go; default <StateDir>/.volumes, which
	// List skips as it is no sandbox ID).
	VolumeDir string
	// CgroupParent is the cgroup under which each sandbox gets <CgroupParent>/<id>
	// (default "/paddock").
	CgroupParent string
	// Logger receives cleanup problems (default: discard).
	Logger *slog.Logger
	// Network configures the user-mode networks of egress sandboxes (upstream DNS).
	Network usernet.Config
	// OnViolation receives what egress policies blocked, per sandbox ID (may be nil).
	OnViolation func(id string, v sandbox.NetworkViolation)
}

// Driver implements sandbox.Driver, sandbox.Pauser, sandbox.Networker, sandbox.DiskLimiter
// and sandbox.VolumeManager. Safe for concurrent use on distinct IDs; callers serialise operations
// on one ID.
type Driver struct {
	cfg   Config
	bin   string
	log   *slog.Logger
	ucg   *userCgroups // where sandboxes get user cgroups; nil: nowhere (usercgroup.go)
	disks *disks

	netMu sync.Mutex
	nets  map[string]*usernet.Network // user-mode networks of running egress sandboxes

	exits watches // exit watches of running sandboxes' inits (exitwatch.go)

	// volMu orders volumes against the units that mount them: CreateVolume, DeleteVolume and
	// Close hold it; creating a unit with mounts, SetMounts and staging hold it for reading.
	volMu sync.RWMutex
	// mountMu serialises mounting volumes on the host.
	mountMu sync.Mutex
}

var (
	_ sandbox.Driver      = (*Driver)(nil)
	_ sandbox.Pauser      = (*Driver)(nil)
	_ sandbox.Networker   = (*Driver)(nil)
	_ sandbox.DiskLimiter = (*Driver)(nil)
)

// maxSocketPath is the longest unix socket path the kernel accepts.
const maxSocketPath = 107

var idRE = regexp.MustCompile(`^[a-z0-9]{1,63}$`)

// New validates cfg and returns a driver.
func New(cfg Config) (*Driver, error) {
	if cfg.Runtime == "" {
		cfg.Runtime = "runc"
	}
	rt, err := exec.LookPath(cfg.Runtime)
	if err != nil {
		return nil, fmt.Errorf("OCI runtime %q not found: install runc (apt-get install runc) or set the runtime path: %w", cfg.Runtime, err)
	}
	if cfg.StateDir == "" {
		return nil, errors.New("runc driver: StateDir is required")
	}
	if cfg.RuntimeRoot == "" {
		cfg.RuntimeRoot = filepath.Join(cfg.StateDir, ".runc")
	}
	if cfg.DiskImageDir == "" {
		cfg.DiskImageDir = filepath.Join(cfg.StateDir, ".disks")
	}
	if cfg.VolumeDir == "" {
		cfg.VolumeDir = filepath.Join(cfg.StateDir, ".volumes")
	}
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = "/paddock"
	}
	cfg.CgroupParent = path.Clean("/" + cfg.CgroupParent)
	if cfg.CgroupParent == "/" {
		return nil, errors.New("runc driver: CgroupParent must name a cgroup below the root")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if fi, err := os.Stat(cfg.GuestBinary); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("runc driver: guest binary %q is not a file", cfg.GuestBinary)
	}
	for _, d := range []string{cfg.StateDir, cfg.RuntimeRoot} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("runc driver: %w", err)
		}
	}
	d := &Driver{cfg: cfg, bin: rt, log: cfg.Logger, disks: newDisks(cfg.DiskImageDir, cfg.Logger),
		nets: map[string]*usernet.Network{}}
	var why string
	if d.ucg, why = detectUserCgroups(); d.ucg == nil {
		d.log.Warn("sandboxes get no user cgroup: a fork bomb at a sandbox's pids limit can take its guest down", "reason", why)
	}
	return d, nil
}

// Name implements sandbox.Driver.
func (d *Driver) Name() string { return "runc" }

// paths of one sandbox's directory.
type paths struct{ dir string }

func (d *Driver) paths(id string) paths { return paths{filepath.Join(d.cfg.StateDir, id)} }
func (p paths) instance() string        { return filepath.Join(p.dir, "instance.json") }
func (p paths) bundle() string          { return filepath.Join(p.dir, "bundle") }
func (p paths) rootfs() string          { return filepath.Join(p.dir, "bundle", "rootfs") }
func (p paths) upper() string           { return filepath.Join(p.dir, "upper") }
func (p paths) work() string            { return filepath.Join(p.dir, "work") }
func (p paths) guestDir() string        { return filepath.Join(p.dir, "guest") }
func (p paths) socket() string          { return filepath.Join(p.dir, "guest", "guest.sock") }
func (p paths) log() string             { return filepath.Join(p.dir, "guest.log") }
func (p paths) runtimeLog() string      { return filepath.Join(p.dir, "runtime.log") }
func (p paths) pidFile() string         { return filepath.Join(p.dir, "init.pid") }

// Create implements sandbox.Driver: it checks the spec, lays out the sandbox directory and
// records the spec in instance.json for Start and List.
func (d *Driver) Create(ctx context.Context, spec sandbox.InstanceSpec) (err error) {
	if err := d.validate(spec); err != nil {
		return err
	}
	if len(spec.Mounts) > 0 {
		// Held until the spec is recorded: DeleteVolume must see this unit or refuse it.
		d.volMu.RLock()
		defer d.volMu.RUnlock()
		if err := d.checkMounts(ctx, spec.Mounts); err != nil {
			return err
		}
	}
	p := d.paths(spec.ID)
	if err := os.Mkdir(p.dir, 0o711); err != nil {
		if os.IsExist(err) {
			return errdefs.AlreadyExists("sandbox %s already exists", spec.ID)
		}
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(p.dir)
		}
	}()
	dirs := []string{p.guestDir(), p.rootfs()}
	if !diskLimited(spec) {
		dirs = append(dirs, p.upper(), p.work())
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", spec.ID, err)
		}
	}
	if diskLimited(spec) {
		if err := d.disks.create(spec, p); err != nil {
			return fmt.Errorf("create %s: %w", spec.ID, err)
		}
	}
	return d.writeInstance(spec)
}

// validate rejects what Start could not run, so that Create fails instead.
func (d *Driver) validate(spec sandbox.InstanceSpec) error {
	if !idRE.MatchString(spec.ID) {
		return errdefs.InvalidArgument("invalid sandbox ID %q: want 1-63 of [a-z0-9]", spec.ID)
	}
	if n := len(d.paths(spec.ID).socket()); n > maxSocketPath {
		return errdefs.InvalidArgument("state dir %s is too long: the guest socket path would be %d bytes (max %d)", d.cfg.StateDir, n, maxSocketPath)
	}
	if err := checkLayers(spec.Image.Layers); err != nil {
		return err
	}
	if err := netpolicy.Validate(spec.Egress); err != nil {
		return err
	}
	if err := d.CheckDiskLimit(spec); err != nil {
		return errdefs.InvalidArgument("disk_mb cannot be enforced: %v", err)
	}
	for _, b := range spec.Image.Binds {
		if !filepath.IsAbs(b.Source) || !filepath.IsAbs(b.Destination) {
			return errdefs.InvalidArgument("image bind %s:%s: paths must be absolute", b.Source, b.Destination)
		}
	}
	if _, err := d.buildSpec(spec); err != nil {
		return fmt.Errorf("create %s: %w", spec.ID, err)
	}
	return nil
}

// readInstance loads the recorded spec of a sandbox.
func (d *Driver) readInstance(id string) (sandbox.InstanceSpec, error) {
	var spec sandbox.InstanceSpec
	if !idRE.MatchString(id) {
		return spec, errdefs.NotFound("sandbox %q not found", id)
	}
	b, err := os.ReadFile(d.paths(id).instance())
	if os.IsNotExist(err) {
		return spec, errdefs.NotFound("sandbox %s not found", id)
	}
	if err != nil {
		return spec, fmt.Errorf("read sandbox %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return spec, fmt.Errorf("read sandbox %s: %w", id, err)
	}
	return spec, nil
}

// Dial implements sandbox.Driver. The socket was created by the host in a directory the
// sandbox sees read-only, so the path is never sandbox-controlled.
func (d *Driver) Dial(ctx context.Context, id string) (net.Conn, error) {
	if !idRE.MatchString(id) {
		return nil, errdefs.NotFound("sandbox %q not found", id)
	}
	var dl net.Dialer
	conn, err := dl.DialContext(ctx, "unix", d.paths(id).socket())
	if err != nil {
		if _, serr := os.Stat(d.paths(id).dir); os.IsNotExist(serr) {
			return nil, errdefs.NotFound("sandbox %s not found", id)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("dial the guest of %s: %w", id, ctx.Err()) // the caller's end, not the guest's
		}
		return nil, sandbox.GuestUnreachable(fmt.Errorf("dial the guest of %s: %w", id, err))
	}
	return conn, nil
}
