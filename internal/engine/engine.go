// Package engine assembles a sandbox engine from a data directory: the runc driver, the
// image resolver, a store and the manager. It is what `paddock run` uses in-process and what
// `paddock serve` serves.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/driver/kube"
	"github.com/paddock/paddock/internal/driver/runc"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/invalidate/pginvalidate"
	"github.com/paddock/paddock/internal/leader"
	"github.com/paddock/paddock/internal/leader/pgleader"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/lock"
	"github.com/paddock/paddock/internal/lock/pglock"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/sqlite"
	"github.com/paddock/paddock/internal/usernet"
	"github.com/paddock/paddock/internal/webhook"
)

// Config describes an engine.
type Config struct {
	DataDir string
	// Store is where records are kept: "" or "sqlite" for paddock.db in the data dir, or a
	// postgres:// URL (see config.Config.Store). Ephemeral engines ignore it.
	Store   string
	Runtime string // OCI runtime binary (default "runc")
	// GuestBinary is a static paddock binary to run as the in-sandbox guest (default: this
	// executable). A copy of it is what sandboxes see.
	GuestBinary string
	Pools       []manager.PoolConfig
	Logger      *slog.Logger
	// Ephemeral engines (one-shot `paddock run`) keep their sandboxes in a private
	// per-process directory with an in-memory store, and never touch a server's sandboxes.
	Ephemeral bool
	// ReapInterval enables the TTL reaper (0 = off).
	ReapInterval time.Duration
	// WrapEvents, when set, decorates the audit store (metrics count events through it).
	WrapEvents func(audit.Store) audit.Store
	// Registries are per-registry pull settings (mirrors, plain-HTTP registries);
	// ImageImportLimit caps image imports (0 = default).
	Registries       image.Registries
	ImageImportLimit int64
	// DNS are the upstream resolvers ("ip:port") that egress sandboxes' lookups go to
	// (default: the host's /etc/resolv.conf).
	DNS []string
	// Driver, when set, replaces the runc driver (and the guest binary it needs): the HTTP
	// layer's tests run on the fake driver without root. Images, when set, replaces the
	// image resolver, whose base image needs root to build.
	Driver sandbox.Driver
	Images sandbox.ImageResolver
	// DriverName picks the driver when Driver is unset: "" or "runc", or "kube" (then Kube
	// configures it, and images are passed through to the nodes, which pull them).
	DriverName string
	Kube       KubeSettings
	// Quota is every user's default quota (zero fields: no limit).
	Quota account.Quota
	// ReconcileInterval is the manager's periodic reconcile pass (0: its default).
	ReconcileInterval time.Duration
	// Node names this machine when its driver is per machine and replicas on other machines
	// share the store (see manager.Config.Node). Default: the host name for the runc driver
	// on a postgres:// store, else none.
	Node string
	// Leader, when set, replaces the elector the store implies: on a postgres:// store,
	// replicas elect a leader through the database (pgleader); otherwise this replica is
	// alone and always leads.
	Leader leader.Elector
}

// FromSettings is the part of Paddock's settings that concerns the engine (data dir, runtime,
// registries, egress DNS), so that `paddock serve` and one-shot `paddock run` read them alike.
// The settings must have passed c.Validate.
func FromSettings(c config.Config) Config {
	return Config{DataDir: c.DataDir, Store: c.Store, Runtime: c.Runtime, DNS: c.EgressDNS, Registries: c.Registries,
		DriverName: c.Driver, Kube: kubeSettings(c),
		ImageImportLimit: c.MaxImportBytes, Quota: account.Quota{Sandboxes: c.QuotaSandboxes, MemoryMB: c.QuotaMemoryMB,
			VCPUs: c.QuotaVCPUs, CreatesPerMinute: c.QuotaCreatesPerMinute, Sessions: c.QuotaSessions}}
}

// Engine is an assembled manager plus what it owns.
type Engine struct {
	*manager.Manager
	driver      sandbox.Driver // closed last, when it has a Close
	store       sandbox.Store
	closeLocker func() // releases the shared locker's connections, after the manager
	closeBus    func() // stops the invalidation bus's listener, after the manager
	// Events is where the engine's audit trail is kept.
	Events audit.Store
	// Runs is the history of throwaway runs.
	Runs sandbox.RunStore
	// Accounts keeps users and their keys (in the same database as the sandboxes).
	Accounts account.Store
	// Lifecycle keeps the sandboxes' lifecycle events and the webhooks that receive them;
	// Webhooks delivers them (closed by Close, after the manager).
	Lifecycle lifecycle.Store
	Webhooks  *webhook.Dispatcher
	// Agents keeps Sandcaster's agent runs and sessions (the same database too).
	Agents agentrun.Store
	// Fleet keeps Trinity's agents (the same database too).
	Fleet fleet.Store
	// SSHGrants keeps the SSH gateway's key grants (the same database too).
	SSHGrants sshgate.Store
	// Schedules and Credentials keep Trinity agents' cron schedules and their injected
	// credential files, sealed (the same database too).
	Schedules   schedule.Store
	Credentials credential.Store
	// Leader is this replica's campaign for the cluster's background work: the manager's
	// TTL reaper and reconcile pass, and the server's schedule runner and audit pruning, run
	// while it leads (stopped by Close, after the manager).
	Leader *leader.Campaign
	// Invalidate carries cache invalidations between the replicas on the store (on
	// Postgres, LISTEN/NOTIFY; otherwise within the process). The server's account service
	// uses it too.
	Invalidate invalidate.Bus
	// Locker serialises work across the replicas on the store (on Postgres, advisory locks;
	// otherwise within the process): the manager's, and the server's account changes.
	Locker lock.Locker
}

// DefaultDataDir is /var/lib/paddock for root and $XDG_DATA_HOME/paddock otherwise.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/paddock"
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "paddock")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "paddock")
}

// Open builds the engine. Close it to release pools and the store.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	images := cfg.Images
	if images == nil && cfg.Driver == nil && cfg.DriverName == "kube" {
		images = kube.Images{}
	}
	if images == nil {
		var err error
		if images, err = image.NewResolver(cfg.DataDir, cfg.Logger, image.WithRegistries(cfg.Registries), image.WithImportLimit(cfg.ImageImportLimit)); err != nil {
			return nil, err
		}
	}
	// Violations reach the manager once it exists; sandboxes only run after that, except
	// those adopted while it is being built, whose first violations are dropped.
	var mgr atomic.Pointer[manager.Manager]
	drv := cfg.Driver
	if drv == nil && cfg.DriverName == "kube" {
		var err error
		if drv, err = openKube(cfg); err != nil {
			return nil, err
		}
	}
	if drv == nil && cfg.Node == "" && !cfg.Ephemeral && postgres.IsURL(cfg.Store) {
		// runc's sandboxes live on this machine: other replicas cannot reach them.
		cfg.Node, _ = os.Hostname()
	}
	if drv == nil {
		var err error
		if drv, err = openRunc(ctx, cfg, func(id string, v sandbox.NetworkViolation) {
			if m := mgr.Load(); m != nil {
				m.RecordViolation(id, v)
			}
		}); err != nil {
			return nil, err
		}
	}
	var store sandbox.Store = memory.New()
	var events audit.Store = &memory.Events{}
	var runs sandbox.RunStore = &memory.Runs{}
	var accounts account.Store = memory.NewAccounts()
	var lc lifecycle.Store = &memory.Lifecycle{}
	var agents agentrun.Store = memory.NewAgents()
	var agentsFleet fleet.Store = memory.NewFleet()
	var grants sshgate.Store = &memory.SSHGrants{}
	var schedules schedule.Store = memory.NewSchedules()
	var credentials credential.Store = memory.NewCredentials()
	var quotas manager.QuotaLedger // nil: the manager's own, in memory
	var warm manager.WarmStore
	if !cfg.Ephemeral {
		db, err := openStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
		store, events, runs, accounts, lc, agents = db, db, db, db, db, db
		agentsFleet, grants, schedules, credentials = db, db, db, db
		if pg, ok := db.(*postgres.Store); ok {
			// Replicas on one database count each other's creates under way.
			quotas = pg.Quotas()
		}
		warm, _ = db.(manager.WarmStore) // Postgres: the only store replicas share
	}
	locker, closeLocker, err := lockerFor(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	bus, closeBus, err := busFor(cfg)
	if err != nil {
		closeLocker()
		store.Close()
		return nil, err
	}
	campaign := leader.Start(electorFor(cfg), cfg.Logger.With("op", "leader"))
	hooks := webhook.New(webhook.Config{Store: lc, Log: cfg.Logger.With("op", "webhook")})
	if cfg.WrapEvents != nil {
		events = cfg.WrapEvents(events)
	}
	shared := cfg.Node == "" && !cfg.Ephemeral && postgres.IsURL(cfg.Store)
	var activity sandbox.ActivityStore
	if a, ok := store.(sandbox.ActivityStore); ok && shared {
		activity = a // any replica may serve a sandbox: the leader's idle reaper needs their uses
	}
	m, err := manager.New(ctx, manager.Config{Driver: drv, Store: store, Images: images,
		Logger: cfg.Logger, Pools: cfg.Pools, Reconcile: !cfg.Ephemeral,
		Audit: &audit.Recorder{Store: events}, ReapInterval: cfg.ReapInterval, Accounts: accounts, Quota: cfg.Quota, Quotas: quotas,
		Events: hooks, Leader: campaign, Locker: locker, Invalidate: bus, Node: cfg.Node, ReconcileInterval: cfg.ReconcileInterval,
		SharedDriver: shared, Activity: activity, Warm: warm})
	if err != nil {
		campaign.Stop()
		hooks.Close()
		closeBus()
		closeLocker()
		store.Close()
		return nil, err
	}
	mgr.Store(m)
	return &Engine{Manager: m, driver: drv, store: store, closeLocker: closeLocker, closeBus: closeBus, Invalidate: bus, Locker: locker, Events: events, Runs: runs, Accounts: accounts, Lifecycle: lc, Webhooks: hooks, Agents: agents, Fleet: agentsFleet,
		SSHGrants: grants, Schedules: schedules, Credentials: credentials, Leader: campaign}, nil
}

// electorFor is cfg.Leader, or the elector cfg's store implies.
func electorFor(cfg Config) leader.Elector {
	switch {
	case cfg.Leader != nil:
		return cfg.Leader
	case !cfg.Ephemeral && postgres.IsURL(cfg.Store):
		return pgleader.New(cfg.Store, pgleader.Options{Logger: cfg.Logger.With("op", "leader")})
	}
	return leader.Always{}
}

// lockerFor is the locker of sandbox lifecycles and quota checks: on a postgres:// store,
// advisory locks that every replica on the database shares (pglock); otherwise one in the
// process.
func lockerFor(cfg Config) (lock.Locker, func(), error) {
	if cfg.Ephemeral || !postgres.IsURL(cfg.Store) {
		return &lock.Local{}, func() {}, nil
	}
	host, _ := os.Hostname()
	l, err := pglock.New(cfg.Store, pglock.Options{Name: fmt.Sprintf("%s pid %d", host, os.Getpid()),
		Logger: cfg.Logger.With("op", "lock")})
	if err != nil {
		return nil, nil, err
	}
	return l, l.Close, nil
}

// busFor is the invalidation bus: LISTEN/NOTIFY on a postgres:// store (its listener runs
// until the returned close), otherwise one in the process.
func busFor(cfg Config) (invalidate.Bus, func(), error) {
	if cfg.Ephemeral || !postgres.IsURL(cfg.Store) {
		return &invalidate.Local{}, func() {}, nil
	}
	b, err := pginvalidate.New(cfg.Store, 0, cfg.Logger.With("op", "invalidate"))
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	return b, func() { cancel(); <-done; b.Close() }, nil
}

// database is what one store keeps: sandboxes, runs, events, accounts, lifecycle events,
// agent runs, and Trinity's agents, SSH grants, schedules and credentials. Every store
// engine.Open can open (SQLite, Postgres) keeps them all.
type database interface {
	sandbox.Store
	sandbox.RunStore
	audit.Store
	account.Store
	lifecycle.Store
	agentrun.Store
	fleet.Store
	sshgate.Store
	schedule.Store
	credential.Store
}

// openStore opens the store cfg.Store names: SQLite in the data dir by default, PostgreSQL
// for a postgres:// URL (whose password no message or log shows).
func openStore(ctx context.Context, cfg Config) (database, error) {
	if postgres.IsURL(cfg.Store) {
		cfg.Logger.Info("store", "kind", "postgres", "url", postgres.Redact(cfg.Store))
		db, err := postgres.Open(ctx, cfg.Store)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	if cfg.Store != "" && cfg.Store != "sqlite" {
		return nil, errors.New(`store: want "" (SQLite in the data dir) or a postgres:// URL`)
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "paddock.db"))
	if err != nil {
		return nil, err
	}
	return db, nil
}

// openRunc installs the guest binary and builds the runc driver: under the data dir, or
// under a private per-process directory for an ephemeral engine.
func openRunc(ctx context.Context, cfg Config, onViolation func(string, sandbox.NetworkViolation)) (*runc.Driver, error) {
	guestBin, err := InstallGuest(cfg.DataDir, cfg.GuestBinary)
	if err != nil {
		return nil, err
	}
	stateDir, runtimeRoot := filepath.Join(cfg.DataDir, "sandboxes"), filepath.Join(cfg.DataDir, "runc")
	if cfg.Ephemeral {
		sweepEphemeral(ctx, cfg, guestBin)
		base := ephemeralDir(cfg.DataDir, os.Getpid())
		stateDir, runtimeRoot = filepath.Join(base, "s"), filepath.Join(base, "runc")
	}
	volumeDir := filepath.Join(cfg.DataDir, "volumes")
	if cfg.Ephemeral {
		volumeDir = filepath.Join(ephemeralDir(cfg.DataDir, os.Getpid()), "v")
	}
	return runc.New(runc.Config{Runtime: cfg.Runtime, StateDir: stateDir, RuntimeRoot: runtimeRoot, VolumeDir: volumeDir,
		DiskImageDir: filepath.Join(cfg.DataDir, "disks"), GuestBinary: guestBin, Logger: cfg.Logger, Network: usernet.Config{DNS: cfg.DNS}, OnViolation: onViolation})
}

// Close stops the pools and closes the store; claimed sandboxes keep running. A driver with
// a Close (runc: the host's mounts of its volumes) is closed last.
func (e *Engine) Close(ctx context.Context) error {
	err := e.Manager.Close(ctx)
	e.Leader.Stop()
	e.closeLocker()
	e.closeBus()
	e.Webhooks.Close()
	err = errors.Join(err, e.store.Close())
	if c, ok := e.driver.(interface{ Close() error }); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

func ephemeralDir(dataDir string, pid int) string {
	return filepath.Join(dataDir, "oneshot", strconv.Itoa(pid))
}

// sweepEphemeral deletes what one-shot engines of processes that no longer exist left
// behind (for example after kill -9).
func sweepEphemeral(ctx context.Context, cfg Config, guestBin string) {
	entries, _ := os.ReadDir(filepath.Join(cfg.DataDir, "oneshot"))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		base := ephemeralDir(cfg.DataDir, pid)
		drv, err := runc.New(runc.Config{Runtime: cfg.Runtime, StateDir: filepath.Join(base, "s"),
			RuntimeRoot: filepath.Join(base, "runc"), GuestBinary: guestBin, Logger: cfg.Logger})
		if err != nil {
			continue
		}
		insts, _ := drv.List(ctx)
		for _, in := range insts {
			_ = drv.Delete(ctx, in.ID)
		}
		if left, err := drv.List(ctx); err == nil && len(left) == 0 {
			_ = os.RemoveAll(base)
		}
	}
}
