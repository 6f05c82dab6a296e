package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/sandbox"
)

// Get returns a sandbox by ID or name; another user's (not shared with the caller) is not
// found.
func (m *Manager) Get(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	return m.get(ctx, idOrName, AccessView)
}

// List returns the sandboxes matching f that the caller may see, oldest first.
func (m *Manager) List(ctx context.Context, f sandbox.ListFilter) ([]*sandbox.Sandbox, error) {
	sbs, err := m.store.ListSandboxes(ctx, f)
	if err != nil {
		return nil, err
	}
	return m.visible(ctx, sbs)
}

// ByGuestToken returns the running sandbox whose guest token (E2B's access token) is token,
// through the store's index, for a request that carries only the token: it counts as use,
// and a paused sandbox that resumes on traffic is resumed first (WakeForRequest). Not found
// when no running sandbox holds it.
func (m *Manager) ByGuestToken(ctx context.Context, token string) (*sandbox.Sandbox, error) {
	if token != "" {
		sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{GuestToken: token, States: []sandbox.State{sandbox.StateRunning, sandbox.StatePaused}})
		if err != nil {
			return nil, err
		}
		if len(sbs) == 1 {
			sb, err := m.WakeForRequest(ctx, sbs[0])
			if err != nil {
				return nil, err
			}
			if sb.State == sandbox.StateRunning {
				return sb, nil
			}
		}
	}
	return nil, errdefs.NotFound("no running sandbox holds this access token")
}

// Stop ends every process of a sandbox and keeps its filesystem. Its processes get SIGTERM
// and StopGrace to exit first. Stopping a stopped sandbox is a no-op.
func (m *Manager) Stop(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.stopLocked(ctx, sb)
}

// stopLocked is Stop for a caller that holds sb's lock and read sb under it.
func (m *Manager) stopLocked(ctx context.Context, sb *sandbox.Sandbox) (*sandbox.Sandbox, error) {
	switch sb.State {
	case sandbox.StateStopped:
		return sb, nil
	case sandbox.StateRunning, sandbox.StatePaused, sandbox.StateFailed:
	default:
		return nil, errdefs.FailedPrecondition("sandbox %q is %s and cannot be stopped", sb.Name, sb.State)
	}
	if sb.State == sandbox.StatePaused {
		if p, ok := m.driver.(sandbox.Pauser); ok {
			_ = p.Resume(ctx, sb.ID) // a frozen guest cannot answer, nor its processes exit
		}
	}
	if sb.State != sandbox.StateFailed {
		m.terminate(ctx, sb)
	}
	m.dropClient(sb.ID)
	if err := m.driver.Stop(ctx, sb.ID, 0); err != nil && !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("stop %s: %w", sb.Name, err)
	}
	m.record(ctx, audit.SandboxStopped, sb.Name, map[string]any{"id": sb.ID})
	was := sb.State
	if sb, err := m.setState(ctx, sb, sandbox.StateStopped, ""); err != nil || was != sandbox.StateRunning {
		return sb, err
	}
	// On E2B a stopped sandbox is a paused one (resumed from its disk).
	m.emit(ctx, sb, lifecycle.Paused, map[string]any{"memory": false})
	return sb, nil
}

// terminateSlack is how much longer than the grace period the guest may take to answer
// POST /terminate.
const terminateSlack = 2 * time.Second

// terminate asks the sandbox's guest to end its processes gracefully: SIGTERM, StopGrace,
// SIGKILL. The guest ignores signals itself, so this is the only graceful way; when it does
// not answer, the driver just kills everything.
func (m *Manager) terminate(ctx context.Context, sb *sandbox.Sandbox) {
	tctx, cancel := context.WithTimeout(ctx, m.cfg.StopGrace+terminateSlack)
	defer cancel()
	forced, err := m.client(sb).Terminate(tctx, m.cfg.StopGrace)
	switch {
	case err != nil:
		m.log.Warn("graceful stop: guest did not answer, killing", "sandbox", sb.ID, "err", err)
	case forced:
		m.log.Info("graceful stop: processes outlived the grace period and were killed", "sandbox", sb.ID,
			"grace", m.cfg.StopGrace)
	}
}

// Start brings a stopped sandbox back with the same filesystem in a fresh container.
//
// Starting counts against the caller's running quota (not their creations). The quota is
// reserved before the sandbox's lock is taken, never while holding it: with a shared locker
// each held key holds a database connection of a bounded pool, and as many Starts at once as
// the pool has connections, each holding its sandbox's lock and waiting for the quota's,
// would wait for each other forever (TestStartNeverHoldsTwoLocks).
func (m *Manager) Start(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	for attempt := 0; ; attempt++ {
		seen, err := m.get(ctx, idOrName, AccessOperate)
		if err != nil {
			return nil, err
		}
		hold := &quotaHold{}
		stopped := seen.State == sandbox.StateStopped || seen.State == sandbox.StateFailed
		if stopped {
			if hold, err = m.reserve(ctx, seen.Name, seen.Instance.Resources, false); err != nil {
				return nil, err
			}
		}
		sb, done, err := m.startReserved(ctx, seen.ID, hold, stopped, attempt)
		hold.release(ctx)
		if done {
			return sb, err
		}
	}
}

// startReserved is one try of Start under the sandbox's lock. When the sandbox was stopped
// meanwhile with no quota reserved for it, it reports not done (the caller reserves and tries
// again), unless tries ran out.
func (m *Manager) startReserved(ctx context.Context, id string, hold *quotaHold, reserved bool, attempt int) (_ *sandbox.Sandbox, done bool, err error) {
	sb, unlock, err := m.locked(ctx, id, AccessOperate)
	if err != nil {
		return nil, true, err
	}
	defer unlock()
	if !reserved && (sb.State == sandbox.StateStopped || sb.State == sandbox.StateFailed) {
		if attempt < 3 {
			return nil, false, nil
		}
		return nil, true, errdefs.Unavailable("sandbox %q is being stopped and started by others; try again", sb.Name)
	}
	sb, err = m.startLocked(ctx, sb, hold)
	return sb, true, err
}

// startLocked is Start for a caller that holds sb's lock and read sb under it; hold is the
// caller's quota reservation, settled when the record says running.
func (m *Manager) startLocked(ctx context.Context, sb *sandbox.Sandbox, hold *quotaHold) (_ *sandbox.Sandbox, err error) {
	switch sb.State {
	case sandbox.StateRunning:
		return sb, nil
	case sandbox.StateStopped, sandbox.StateFailed:
	default:
		return nil, errdefs.FailedPrecondition("sandbox %q is %s and cannot be started", sb.Name, sb.State)
	}
	if err := m.driver.Start(ctx, sb.ID); err != nil {
		return nil, fmt.Errorf("start %s: %w", sb.Name, err)
	}
	// A fresh container means a fresh guest: it needs its token and settings again.
	m.dropClient(sb.ID)
	if err := m.waitGuest(ctx, sb.ID, sb.GuestToken, ""); err != nil {
		cctx, cancel := cleanupCtx(ctx)
		defer cancel()
		_ = m.driver.Stop(cctx, sb.ID, 0)
		return nil, err
	}
	if err := m.configureGuest(ctx, sb); err != nil {
		return nil, fmt.Errorf("configure guest: %w", err)
	}
	m.watchExit(sb.ID)
	now := m.cfg.Now().UTC()
	sb.StartedAt = &now
	m.record(ctx, audit.SandboxStarted, sb.Name, map[string]any{"id": sb.ID, "profile": sb.Instance.Security.Profile})
	if sb, err = m.setState(ctx, sb, sandbox.StateRunning, ""); err != nil {
		return nil, err
	}
	hold.made(ctx)
	m.emit(ctx, sb, lifecycle.Resumed, map[string]any{"memory": false})
	m.runStartCommand(sb) // the fresh container has none of the old processes
	return sb, nil
}

// Delete removes a sandbox and everything it owns.
func (m *Manager) Delete(ctx context.Context, idOrName string) error {
	sb, unlock, err := m.locked(ctx, idOrName, AccessOwn)
	if err != nil {
		return err
	}
	defer unlock()
	return m.deleteLocked(ctx, sb)
}

// deleteLocked is Delete for a caller that holds sb's lock and read sb under it.
func (m *Manager) deleteLocked(ctx context.Context, sb *sandbox.Sandbox) error {
	m.dropClient(sb.ID)
	if sb.State != sandbox.StateRemoving {
		if _, err := m.setState(ctx, sb, sandbox.StateRemoving, ""); err != nil {
			return err
		}
	}
	if err := m.driver.Delete(ctx, sb.ID); err != nil {
		return fmt.Errorf("delete %s: %w", sb.Name, err)
	}
	if err := m.deleteRecord(ctx, sb.ID); err != nil {
		return err
	}
	if m.cfg.Accounts != nil {
		if err := m.cfg.Accounts.DeleteSandboxShares(ctx, sb.ID); err != nil {
			m.log.Error("delete shares", "sandbox", sb.ID, "err", err)
		}
	}
	m.log.Info("sandbox deleted", "sandbox", sb.ID, "name", sb.Name)
	m.record(ctx, audit.SandboxRemoved, sb.Name, map[string]any{"id": sb.ID})
	m.activity.forget(sb.ID)
	m.emit(ctx, sb, lifecycle.Killed, nil)
	return nil
}

// Pause freezes a running sandbox's processes, keeping memory and disk.
func (m *Manager) Pause(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	return m.freeze(ctx, idOrName, true)
}

// Resume thaws a paused sandbox.
func (m *Manager) Resume(ctx context.Context, idOrName string) (*sandbox.Sandbox, error) {
	return m.freeze(ctx, idOrName, false)
}

func (m *Manager) freeze(ctx context.Context, idOrName string, pause bool) (*sandbox.Sandbox, error) {
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.freezeLocked(ctx, sb, pause)
}

// freezeLocked is Pause (pause true) or Resume for a caller that holds sb's lock and read sb
// under it.
func (m *Manager) freezeLocked(ctx context.Context, sb *sandbox.Sandbox, pause bool) (*sandbox.Sandbox, error) {
	p, ok := m.driver.(sandbox.Pauser)
	if !ok {
		return nil, errdefs.FailedPrecondition("the %s driver cannot pause sandboxes", m.driver.Name())
	}
	from, to, op := sandbox.StateRunning, sandbox.StatePaused, p.Pause
	if !pause {
		from, to, op = sandbox.StatePaused, sandbox.StateRunning, p.Resume
	}
	if sb.State != from {
		return nil, errdefs.FailedPrecondition("sandbox %q is %s, not %s", sb.Name, sb.State, from)
	}
	if err := op(ctx, sb.ID); err != nil {
		return nil, fmt.Errorf("%s %s: %w", map[bool]string{true: "pause", false: "resume"}[pause], sb.Name, err)
	}
	sb, err := m.setState(ctx, sb, to, "")
	if err != nil {
		return nil, err
	}
	if pause {
		m.emit(ctx, sb, lifecycle.Paused, nil)
	} else {
		m.touch(ctx, sb.ID) // a resumed sandbox's idle time starts again
		m.emit(ctx, sb, lifecycle.Resumed, nil)
	}
	return sb, nil
}

// Stats reads a running sandbox's cgroup.
func (m *Manager) Stats(ctx context.Context, idOrName string) (*sandbox.Stats, error) {
	sb, err := m.get(ctx, idOrName, AccessView)
	if err != nil {
		return nil, err
	}
	if err := m.onThisNode(sb); err != nil {
		return nil, err
	}
	if sb.State != sandbox.StateRunning && sb.State != sandbox.StatePaused {
		return nil, errdefs.FailedPrecondition("sandbox %q is %s, not running", sb.Name, sb.State)
	}
	return m.driver.Stats(ctx, sb.ID)
}

// setState records a state change.
func (m *Manager) setState(ctx context.Context, sb *sandbox.Sandbox, st sandbox.State, reason string) (*sandbox.Sandbox, error) {
	sb.State, sb.Reason, sb.UpdatedAt = st, reason, m.cfg.Now().UTC()
	if err := m.updateRecord(ctx, sb); err != nil {
		return nil, fmt.Errorf("record %s as %s: %w", sb.Name, st, err)
	}
	return sb, nil
}

// Images lists the images the engine holds.
func (m *Manager) Images(ctx context.Context) ([]sandbox.ImageInfo, error) {
	im, ok := m.images.(sandbox.ImageManager)
	if !ok {
		return nil, errdefs.FailedPrecondition("this image resolver keeps no images")
	}
	return im.ListImages(ctx)
}

// PullImage makes sure an image is present, pulling it when needed: the images API, for
// admins.
func (m *Manager) PullImage(ctx context.Context, ref string) (*sandbox.Image, error) {
	if err := RequireAdmin(ctx, "pull images"); err != nil {
		return nil, err
	}
	return m.images.Resolve(ctx, ref)
}

// ResolveImage makes sure the image of a sandbox about to be made is present, as creating
// it would: anyone who may create sandboxes may (a run that reports its pull first).
func (m *Manager) ResolveImage(ctx context.Context, ref string) (*sandbox.Image, error) {
	return m.images.Resolve(ctx, ref)
}

// RemoveImage removes an image and the layers only it used; layers of existing sandboxes are
// never removed.
func (m *Manager) RemoveImage(ctx context.Context, ref string) error {
	if err := RequireAdmin(ctx, "remove images"); err != nil {
		return err
	}
	im, ok := m.images.(sandbox.ImageManager)
	if !ok {
		return errdefs.FailedPrecondition("this image resolver keeps no images")
	}
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{})
	if err != nil {
		return err
	}
	inUse := map[string]bool{}
	for _, sb := range sbs {
		for _, l := range sb.Instance.Image.Layers {
			inUse[l] = true
		}
	}
	return im.RemoveImage(ctx, ref, inUse)
}
