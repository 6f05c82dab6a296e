// Package manager is Paddock's engine: it owns sandbox lifecycle (create, stop, start,
// delete), names, warm pools and reconciliation, and runs processes and file operations in
// sandboxes through their guests. Surfaces call it; it calls a sandbox.Driver and a
// sandbox.Store.
package manager

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock/paddock/internal/account"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/leader"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/lock"
	"github.com/paddock/paddock/internal/sandbox"
)

// Config configures a Manager.
type Config struct {
	Driver sandbox.Driver
	Store  sandbox.Store
	Images sandbox.ImageResolver
	Logger *slog.Logger
	// Pools are the warm pools to keep filled.
	Pools []PoolConfig
	// ReadyTimeout bounds how long a new sandbox's guest may take to answer (default 15s).
	ReadyTimeout time.Duration
	// StopGrace is how long processes get between SIGTERM and SIGKILL on Stop (default 5s).
	StopGrace time.Duration
	// Reconcile makes New adopt running sandboxes and delete driver units it has no record
	// of. Only a manager that owns its driver's state exclusively may set it.
	Reconcile bool
	// ReconcileInterval is how often running and paused sandboxes (and warm ones) are
	// compared with the driver's units: a sandbox whose unit stopped or vanished is marked
	// failed, a warm one replaced (default DefaultReconcileInterval; negative: never). Drivers
	// that implement sandbox.ExitWatcher report an init's exit sooner.
	ReconcileInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Audit records lifecycle, exec and file events (nil = no audit trail).
	Audit *audit.Recorder
	// ReapInterval is how often expired sandboxes are looked for (0 = no TTL reaper).
	ReapInterval time.Duration
	// Leader is this replica's campaign for the cluster's background work: the TTL reaper
	// and the periodic reconcile pass run only while it leads. Nil: the manager is alone on
	// its store and always leads.
	Leader *leader.Campaign
	// Accounts holds shares and per-user quota overrides (nil: no sharing; only the default
	// Quota applies).
	Accounts Accounts
	// Quota is every user's quota unless Accounts holds an override (zero fields: no limit).
	// Admins and the system have none.
	Quota account.Quota
	// Quotas keeps the creates under way and recent creations that quota checks count.
	// Replicas that share a store must share it (the Postgres store's ledger). Nil: a
	// QuotaBook in memory.
	Quotas QuotaLedger
	// ReservationTTL is how long a create's quota reservation counts past its last renewal
	// (default DefaultReservationTTL), and ReservationRenew how often a create under way
	// renews it (default a quarter of the TTL). A reservation lapses only when its replica
	// died mid-create.
	ReservationTTL   time.Duration
	ReservationRenew time.Duration
	// Node names the machine this replica's driver runs sandboxes on, when the driver is per
	// machine (runc) and other replicas on other machines share the store. It is recorded in
	// each sandbox made here; operations on another node's sandbox are refused (409, naming
	// that node), and the reaper and reconcile passes, which then run on every replica, look
	// only at this node's. Empty: the driver reaches every sandbox of the store.
	Node string
	// SharedDriver says that other replicas share the store and the driver (every replica
	// reaches every sandbox): the start-up reconcile then leaves units with no record alone,
	// since they may be another replica's warm sandboxes or creates in progress.
	SharedDriver bool
	// Warm keeps the warm units of pools shared by the replicas of a shared driver: the
	// leader fills the pools, any replica claims from them, and the leader's periodic pass
	// collects orphaned units (see OrphanGrace). Used only with SharedDriver; without it
	// each replica keeps pools of its own.
	Warm WarmStore
	// OrphanGrace is how long a shared driver's unit with neither a sandbox record nor a
	// warm unit's row must stay so before the leader deletes it: longer than any create or
	// warm-pool make takes, since their unit comes before their record (default
	// DefaultOrphanGrace).
	OrphanGrace time.Duration
	// Locker serialises lifecycle operations per sandbox and quota checks per user. Replicas
	// that share a store must share it (pglock on Postgres). Nil: a process-local one.
	Locker lock.Locker
	// Invalidate carries changes of sandbox records between replicas that share the store,
	// for their caches. Nil: the replica is alone (invalidate.Local).
	Invalidate invalidate.Bus
	// Activity shares when sandboxes were last used between replicas that share the store,
	// so that idle timeouts count use made through any replica: each replica flushes the
	// uses it saw every ActivityFlush (default DefaultActivityFlush), and the replica that
	// judges idleness reads them. Nil: this replica's own view only.
	Activity      sandbox.ActivityStore
	ActivityFlush time.Duration
	// Events receives every sandbox's lifecycle events (created, updated, paused, resumed,
	// killed), whichever surface caused them (nil: none are kept).
	Events lifecycle.Publisher
}

// Manager is the engine. Safe for concurrent use.
type Manager struct {
	driver sandbox.Driver
	store  sandbox.Store
	images sandbox.ImageResolver
	log    *slog.Logger
	cfg    Config

	locker  lock.Locker // serialises lifecycle operations per sandbox, quota checks per user
	bus     invalidate.Bus
	mu      sync.Mutex
	clients map[string]*guestclient.Client // sandbox ID → guest client, for running sandboxes

	pools *pools   // owned; stopped by Close
	watch *watcher // owned; stopped by Close

	leader     *leader.Campaign
	ownLeader  bool   // the manager started leader (Config.Leader was nil) and stops it in Close
	stopReaper func() // removes the TTL reaper from the leader's duties; called by Close
	stopFill   func() // removes the shared pools' filler from the leader's duties; called by Close
	orphans    orphans

	bg     sync.WaitGroup // background deletions (Discard); Close waits for them
	recent recordCache    // records for GetRecent
	quota  QuotaLedger    // creates under way and recent ones, per user
	// sessions counts a user's code sessions, for UsageOf (set once by the session registry).
	sessions atomic.Pointer[func(userID string) int]
	activity activity // when each sandbox was last used, for idle timeouts
	// stopSharing ends the activity flusher (nil without Config.Activity) after its last flush.
	stopSharing func()
}

// New builds a manager, reconciles it with the driver when cfg.Reconcile is set, and starts
// filling the configured pools in the background.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Driver == nil || cfg.Store == nil || cfg.Images == nil {
		return nil, errors.New("manager: driver, store and images are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 15 * time.Second
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 5 * time.Second
	}
	if cfg.ReconcileInterval == 0 {
		cfg.ReconcileInterval = DefaultReconcileInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OrphanGrace <= 0 {
		cfg.OrphanGrace = DefaultOrphanGrace
	}
	if cfg.Locker == nil {
		cfg.Locker = &lock.Local{}
	}
	if cfg.Invalidate == nil {
		cfg.Invalidate = &invalidate.Local{}
	}
	if cfg.Quotas == nil {
		cfg.Quotas = &QuotaBook{}
	}
	if cfg.ReservationTTL <= 0 {
		cfg.ReservationTTL = DefaultReservationTTL
	}
	if cfg.ReservationRenew <= 0 {
		cfg.ReservationRenew = cfg.ReservationTTL / 4
	}
	m := &Manager{
		activity: activity{shared: cfg.Activity != nil, unsent: map[string]time.Time{}},
		locker:   cfg.Locker,
		quota:    cfg.Quotas,
		bus:      cfg.Invalidate,
		driver:   cfg.Driver,
		store:    cfg.Store,
		images:   cfg.Images,
		log:      cfg.Logger,
		cfg:      cfg,
		clients:  map[string]*guestclient.Client{},
		watch:    newWatcher(),
	}
	m.subscribe()
	if cfg.Reconcile {
		if err := m.Reconcile(ctx); err != nil {
			m.watch.cancel()
			return nil, fmt.Errorf("reconcile: %w", err)
		}
	}
	p, err := newPools(m, cfg.Pools)
	if err != nil {
		m.watch.cancel()
		return nil, err
	}
	m.pools = p
	m.pools.start()
	m.leader, m.ownLeader = cfg.Leader, cfg.Leader == nil
	if m.ownLeader {
		m.leader = leader.Start(leader.Always{}, m.log)
	}
	m.startReaper()
	if m.pools.warm != nil {
		m.stopFill = m.leader.Do(m.pools.fillShared)
	}
	m.startWatching()
	if cfg.Activity != nil {
		every := cmp.Or(cfg.ActivityFlush, DefaultActivityFlush)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.shareActivity(ctx, every) }()
		m.stopSharing = func() { cancel(); <-done }
	}
	return m, nil
}

// Close stops pool filling, deletes unclaimed pooled sandboxes (but for shared pools' units,
// which other replicas claim) and stops watching for dead ones. Claimed sandboxes keep
// running.
func (m *Manager) Close(ctx context.Context) error {
	m.bg.Wait()
	if m.stopSharing != nil {
		m.stopSharing()
	}
	m.stopWatching()
	m.stopReaperAndWait()
	if m.stopFill != nil {
		m.stopFill()
	}
	if m.ownLeader {
		m.leader.Stop()
	}
	m.pools.close(ctx)
	m.mu.Lock()
	for id, c := range m.clients {
		c.Close()
		delete(m.clients, id)
	}
	m.mu.Unlock()
	return nil
}

// lock serialises lifecycle operations on one sandbox ID, across replicas when the locker
// is shared. Waiting ends with ctx.
func (m *Manager) lock(ctx context.Context, id string) (unlock func(), err error) {
	return m.locker.Lock(ctx, "sandbox:"+id)
}

// client returns the guest client of a running sandbox, creating it on first use.
func (m *Manager) client(sb *sandbox.Sandbox) *guestclient.Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.clients[sb.ID]; ok {
		return c
	}
	id := sb.ID
	c := guestclient.New(func(ctx context.Context) (net.Conn, error) {
		return m.driver.Dial(ctx, id)
	}, sb.GuestToken)
	m.clients[sb.ID] = c
	return c
}

// Backend is the name of the driver that runs the sandboxes ("runc", "fake", ...).
func (m *Manager) Backend() string { return m.driver.Name() }

// clientWithToken returns an uncached guest client for a sandbox, using token.
func (m *Manager) clientWithToken(id, token string) *guestclient.Client {
	return guestclient.New(func(ctx context.Context) (net.Conn, error) {
		return m.driver.Dial(ctx, id)
	}, token)
}

// dropClient forgets a sandbox's guest client (after stop or delete).
func (m *Manager) dropClient(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.clients[id]; ok {
		c.Close()
		delete(m.clients, id)
	}
}

// locked checks that the caller of ctx may act on a sandbox with need, takes its lifecycle
// lock and returns its record as it is under the lock; the caller must call unlock.
func (m *Manager) locked(ctx context.Context, idOrName string, need Access) (sb *sandbox.Sandbox, unlock func(), err error) {
	if sb, err = m.get(ctx, idOrName, need); err != nil {
		return nil, nil, err
	}
	if err := m.onThisNode(sb); err != nil {
		return nil, nil, err
	}
	if unlock, err = m.lock(ctx, sb.ID); err != nil {
		return nil, nil, err
	}
	if sb, err = m.store.GetSandbox(ctx, sb.ID); err != nil {
		unlock()
		return nil, nil, err
	}
	return sb, unlock, nil
}

// mine reports whether this replica's driver holds sb's unit (see Config.Node).
func (m *Manager) mine(sb *sandbox.Sandbox) bool {
	return m.cfg.Node == "" || sb.Node == "" || sb.Node == m.cfg.Node
}

// onThisNode refuses an operation on a sandbox another node's driver holds.
func (m *Manager) onThisNode(sb *sandbox.Sandbox) error {
	if m.mine(sb) {
		return nil
	}
	return errdefs.FailedPrecondition("sandbox %q runs on node %q, not on this replica's (%q): send the request to a replica on %s",
		sb.Name, sb.Node, m.cfg.Node, sb.Node)
}

// running returns the record of a sandbox that must be running for the operation, read under
// its lifecycle lock: a stop, start or delete in progress finishes first, so an operation
// never reaches a guest that is being stopped. The caller needs need on it.
func (m *Manager) running(ctx context.Context, idOrName string, need Access) (*sandbox.Sandbox, error) {
	sb, unlock, err := m.locked(ctx, idOrName, need)
	if err != nil {
		return nil, err
	}
	unlock()
	if sb.State == sandbox.StateFailed && sb.Reason != "" {
		return nil, errdefs.FailedPrecondition("sandbox %q is failed: %s", sb.Name, sb.Reason)
	}
	if sb.State != sandbox.StateRunning {
		return nil, errdefs.FailedPrecondition("sandbox %q is %s, not running", sb.Name, sb.State)
	}
	return sb, nil
}

// record writes an audit event; a failure is logged, never returned to the caller.
func (m *Manager) record(ctx context.Context, typ, sandbox string, details map[string]any) {
	if err := m.cfg.Audit.Record(ctx, typ, sandbox, details); err != nil {
		m.log.Error("audit", "event", typ, "sandbox", sandbox, "err", err)
	}
}

// cleanupCtx is for undoing partial work after the request's context may have ended.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}
