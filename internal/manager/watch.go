package manager

import (
	"context"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// DefaultReconcileInterval is how often, by default, running and paused sandboxes are
// compared with what the driver runs. Each pass costs one Driver.List: with runc about
// 35–70 ms of CPU (one runtime invocation), so not much more often.
const DefaultReconcileInterval = 5 * time.Second

// Reasons recorded on a sandbox found dead.
const (
	ReasonInitExited = "the sandbox's init process exited unexpectedly"
	ReasonUnitGone   = "the sandbox's container disappeared"
)

// busyRetry is how soon a reported exit is looked at again when the sandbox was in the middle
// of a lifecycle operation.
const busyRetry = 200 * time.Millisecond

// watcher finds sandboxes whose init died: at once when the driver reports an exit
// (sandbox.ExitWatcher), and by a periodic pass over running and paused sandboxes otherwise.
type watcher struct {
	// ctx ends at Close: the loop and every exit watch end with it.
	ctx    context.Context
	cancel context.CancelFunc
	exits  chan string   // IDs whose init the driver saw exit
	done   chan struct{} // closed when the loop (owned by the manager, ended by Close) ends
}

func newWatcher() *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &watcher{ctx: ctx, cancel: cancel, exits: make(chan string, 256), done: make(chan struct{})}
}

// startWatching runs the loop that marks dead sandboxes failed and replaces dead warm ones.
func (m *Manager) startWatching() {
	go func() {
		defer close(m.watch.done)
		var tick <-chan time.Time
		if m.cfg.ReconcileInterval > 0 {
			t := time.NewTicker(m.cfg.ReconcileInterval)
			defer t.Stop()
			tick = t.C
		}
		ctx := audit.WithOrigin(m.watch.ctx, audit.Origin{Actor: "reconciler"})
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-m.watch.exits:
				m.checkExit(ctx, id)
			case <-tick:
				// The periodic pass is the cluster's to run once, or each node's for its
				// own sandboxes; exit reports are this replica's own driver speaking, so
				// every replica handles its own.
				if m.cfg.Node != "" || m.leader.IsLeader() {
					m.checkAll(ctx)
				}
			}
		}
	}()
}

// stopWatching ends the loop and every exit watch, and waits for the loop.
func (m *Manager) stopWatching() {
	m.watch.cancel()
	<-m.watch.done
}

// watchExit asks the driver, if it can, to report the exit of id's init. Without a watch the
// periodic pass still notices.
func (m *Manager) watchExit(id string) {
	w, ok := m.driver.(sandbox.ExitWatcher)
	if !ok {
		return
	}
	if err := w.WatchExit(m.watch.ctx, id, m.reportExit); err != nil {
		m.log.Warn("cannot watch the sandbox's init", "sandbox", id, "err", err)
	}
}

// reportExit is the drivers' callback: it must not block.
func (m *Manager) reportExit(id string) {
	select {
	case m.watch.exits <- id:
	default:
		m.log.Warn("exit reports overflow: the next reconcile pass will see it", "sandbox", id)
	}
}

// checkExit handles a reported exit: a warm sandbox is replaced, a user's marked failed.
func (m *Manager) checkExit(ctx context.Context, id string) {
	if m.pools.drop(ctx, id) {
		m.log.Warn("warm sandbox's init exited: replacing it", "sandbox", id)
		m.discard(ctx, id)
		return
	}
	if !m.failIfDead(ctx, id) {
		time.AfterFunc(busyRetry, func() { m.reportExit(id) })
	}
}

// checkAll is the periodic pass: it compares running and paused sandboxes, and warm ones,
// with the driver's units, and with a shared driver collects orphaned units.
func (m *Manager) checkAll(ctx context.Context) {
	if m.pools.warm != nil {
		m.collectOrphans(ctx)
	}
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning, sandbox.StatePaused}})
	if err != nil {
		m.log.Error("reconcile: list sandboxes", "err", err)
		return
	}
	warm, err := m.pools.readyIDs(ctx)
	if err != nil {
		m.log.Error("reconcile: list warm units", "err", err)
	}
	if len(sbs) == 0 && len(warm) == 0 {
		return
	}
	units, err := m.units(ctx)
	if err != nil {
		m.log.Error("reconcile: list units", "err", err)
		return
	}
	for _, sb := range sbs {
		if m.mine(sb) && !live(units, sb.ID) {
			m.failIfDead(ctx, sb.ID) // busy: the next pass looks again
		}
	}
	for _, id := range warm {
		if !live(units, id) && m.pools.drop(ctx, id) {
			m.log.Warn("warm sandbox is not running: replacing it", "sandbox", id)
			m.discard(ctx, id)
		}
	}
}

// failIfDead marks a running or paused sandbox failed when the driver confirms that its unit
// no longer runs, releases what the dead unit held, and records why. It returns false when
// the sandbox was busy with a lifecycle operation and could not be looked at.
func (m *Manager) failIfDead(ctx context.Context, id string) bool {
	unlock, ok := m.tryLock(ctx, id)
	if !ok {
		return false
	}
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, id)
	if err != nil || (sb.State != sandbox.StateRunning && sb.State != sandbox.StatePaused) {
		return true
	}
	// Asked again under the lock: a report or a listing may predate a stop and start.
	units, err := m.units(ctx)
	if err != nil {
		m.log.Error("reconcile: list units", "err", err)
		return true
	}
	st, exists := units[id]
	if live(units, id) {
		return true
	}
	reason := ReasonInitExited
	if !exists {
		reason = ReasonUnitGone
	}
	// Finished even when Close cancels ctx: a stop cut short would leave mounts behind.
	ctx, cancel := cleanupCtx(ctx)
	defer cancel()
	m.dropClient(id)
	if err := m.driver.Stop(ctx, id, 0); err != nil && !errdefs.IsNotFound(err) {
		m.log.Error("reconcile: release the dead sandbox", "sandbox", id, "err", err)
	}
	m.log.Warn("sandbox failed", "sandbox", id, "name", sb.Name, "unit_state", st, "reason", reason)
	m.record(ctx, audit.SandboxFailed, sb.Name, map[string]any{"id": id, "reason": reason})
	if _, err := m.setState(ctx, sb, sandbox.StateFailed, reason); err != nil {
		m.log.Error("reconcile", "sandbox", id, "err", err)
	}
	return true
}

// units returns the state of every unit of the driver, by ID.
func (m *Manager) units(ctx context.Context) (map[string]sandbox.State, error) {
	insts, err := m.driver.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]sandbox.State, len(insts))
	for _, in := range insts {
		out[in.ID] = in.State
	}
	return out, nil
}

// live reports whether units has id running or paused.
func live(units map[string]sandbox.State, id string) bool {
	st := units[id]
	return st == sandbox.StateRunning || st == sandbox.StatePaused
}

// tryLock takes a sandbox's lifecycle lock if it is free (on any replica); a locker that
// cannot answer counts as busy.
func (m *Manager) tryLock(ctx context.Context, id string) (unlock func(), ok bool) {
	unlock, ok, err := m.locker.TryLock(ctx, "sandbox:"+id)
	if err != nil {
		m.log.Warn("reconcile: lock", "sandbox", id, "err", err)
		return nil, false
	}
	return unlock, ok
}

// readyIDs lists the unclaimed warm sandboxes (of the cluster, when the pools are shared).
func (ps *pools) readyIDs(ctx context.Context) ([]string, error) {
	if ps.warm != nil {
		units, err := ps.warm.ListWarm(ctx)
		out := make([]string, len(units))
		for i, u := range units {
			out[i] = u.ID
		}
		return out, err
	}
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var out []string
	for _, p := range ps.byKey {
		p.mu.Lock()
		for _, s := range p.ready {
			out = append(out, s.inst.ID)
		}
		p.mu.Unlock()
	}
	return out, nil
}

// drop takes the unclaimed warm sandbox id out of its pool, if it is one, so that nobody
// claims it, and asks the pool for a replacement. The caller deletes it.
func (ps *pools) drop(ctx context.Context, id string) bool {
	if ps.warm != nil {
		ok, err := ps.warm.DeleteWarm(ctx, id)
		if err != nil {
			ps.m.log.Warn("warm pool: drop", "sandbox", id, "err", err)
		}
		if ok {
			ps.pokeLeader()
		}
		return ok
	}
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	for _, p := range ps.byKey {
		p.mu.Lock()
		for i, s := range p.ready {
			if s.inst.ID == id {
				p.ready = append(p.ready[:i:i], p.ready[i+1:]...)
				p.mu.Unlock()
				p.poke()
				return true
			}
		}
		p.mu.Unlock()
	}
	return false
}
