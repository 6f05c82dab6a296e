// Package runc is the sandbox.Driver that runs each sandbox as an OCI container with the
// runc CLI (or any runtime with the same CLI: crun, runsc). It writes bundles with the
// runtime-spec types, mounts an overlay root filesystem, and hands the guest a listening
// socket that the host created.
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
	"path/filepath"
	"regexp"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Config configures the driver.
type Config struct {
	Runtime      string // runtime binary (default "runc", looked up in PATH)
	StateDir     string // per-sandbox directories: <StateDir>/<id>/
	RuntimeRoot  string // the runtime's --root (default <StateDir>/.runc)
	GuestBinary  string // host path of the read-only copy of the paddock binary
	CgroupParent string // default "/paddock": cgroups are <parent>/<id>
	Logger       *slog.Logger
}

// Driver implements sandbox.Driver and sandbox.Pauser. Safe for concurrent use on distinct
// IDs; callers serialise operations on one ID.
type Driver struct {
	cfg Config
	bin string
	log *slog.Logger
}

var (
	_ sandbox.Driver = (*Driver)(nil)
	_ sandbox.Pauser = (*Driver)(nil)
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
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = "/paddock"
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
	return &Driver{cfg: cfg, bin: rt, log: cfg.Logger}, nil
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

// Create implements sandbox.Driver: it lays out the sandbox directory and records the spec.
func (d *Driver) Create(_ context.Context, spec sandbox.InstanceSpec) (err error) {
	if !idRE.MatchString(spec.ID) {
		return errdefs.InvalidArgument("invalid sandbox ID %q", spec.ID)
	}
	p := d.paths(spec.ID)
	if n := len(p.socket()); n > maxSocketPath {
		return errdefs.InvalidArgument("state dir %s is too long: the guest socket path would be %d bytes (max %d)", d.cfg.StateDir, n, maxSocketPath)
	}
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
	for _, dir := range []string{p.upper(), p.work(), p.guestDir(), p.rootfs()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", spec.ID, err)
		}
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(p.instance(), b, 0o600)
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
		return spec, err
	}
	return spec, json.Unmarshal(b, &spec)
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
		return nil, errdefs.Unavailable("guest of %s unreachable: %v", id, err)
	}
	return conn, nil
}
