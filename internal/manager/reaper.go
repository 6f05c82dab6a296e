package manager

import (
	"context"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// maxTTL bounds a TTL or an extension.
const maxTTL = 365 * 24 * time.Hour

// Extend moves a sandbox's expiry by d from its current deadline (or from now when it has
// none).
func (m *Manager) Extend(ctx context.Context, idOrName string, d time.Duration) (*sandbox.Sandbox, error) {
	if d <= 0 || d > maxTTL {
		return nil, errdefs.InvalidArgument("extension %s is out of range: use a positive duration up to %s", d, maxTTL)
	}
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	from := m.cfg.Now().UTC()
	if sb.ExpiresAt != nil && sb.ExpiresAt.After(from) {
		from = *sb.ExpiresAt
	}
	exp := from.Add(d)
	sb.ExpiresAt = &exp
	return m.setExpiryState(ctx, sb)
}

// setExpiryState records a changed deadline and reports it.
func (m *Manager) setExpiryState(ctx context.Context, sb *sandbox.Sandbox) (*sandbox.Sandbox, error) {
	sb, err := m.setState(ctx, sb, sb.State, sb.Reason)
	if err == nil {
		m.emitTimeout(ctx, sb)
	}
	return sb, err
}

// startReaper makes the TTL reaper one of the leader's duties, when configured, or, with
// per-node drivers, runs it on every replica for its node's sandboxes. The deadlines live
// in the store, so a reaper picks up where the last one left off after a restart or a
// failover.
func (m *Manager) startReaper() {
	switch {
	case m.cfg.ReapInterval <= 0:
	case m.cfg.Node == "":
		m.stopReaper = m.leader.Do(m.runReaper)
	default:
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.runReaper(ctx) }()
		m.stopReaper = func() { cancel(); <-done }
	}
}

func (m *Manager) stopReaperAndWait() {
	if m.stopReaper != nil {
		m.stopReaper()
	}
}

// runReaper reaps every ReapInterval until ctx (this replica's leadership) ends.
func (m *Manager) runReaper(ctx context.Context) {
	t := time.NewTicker(m.cfg.ReapInterval)
	defer t.Stop()
	for {
		m.reapExpired(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reapExpired stops or deletes every sandbox past its deadline. Paused sandboxes are left
// alone, as on E2B: a paused sandbox does not time out, and whoever resumes it sets a fresh
// deadline before it runs again (a deadline that passed while paused takes effect at the
// next reap after a resume that left it). The listing only nominates candidates: each is
// decided again under its lock, since a pause, an extension or a delete may have come in
// between.
func (m *Manager) reapExpired(ctx context.Context) {
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning, sandbox.StateStopped, sandbox.StateFailed}})
	if err != nil {
		m.log.Error("ttl reaper: list", "err", err)
		return
	}
	ctx = quiet(ctx)
	for _, sb := range sbs {
		switch {
		case !m.mine(sb):
		case m.expired(sb):
			m.reap(ctx, sb.ID)
		case m.idle(ctx, sb):
			m.pauseIdle(ctx, sb.ID)
		}
	}
}

// expired reports whether the reaper has something to do with sb.
func (m *Manager) expired(sb *sandbox.Sandbox) bool {
	switch {
	case sb.ExpiresAt == nil || sb.ExpiresAt.After(m.cfg.Now()):
		return false
	case sb.State == sandbox.StatePaused || sb.State == sandbox.StateRemoving:
		return false
	case sb.Spec.OnExpire == sandbox.ExpireStop && sb.State == sandbox.StateStopped:
		return false // already dealt with
	case sb.Spec.OnExpire == sandbox.ExpirePause && sb.State != sandbox.StateRunning:
		return false // only a running sandbox can be paused; a stopped one is as good as paused
	}
	return true
}

// reap stops or deletes one expired sandbox, if it still is expired under its lock.
func (m *Manager) reap(ctx context.Context, id string) {
	sb, unlock, err := m.locked(ctx, id, AccessOwn)
	if err != nil {
		if !errdefs.IsNotFound(err) {
			m.log.Error("ttl reaper: read", "sandbox", id, "err", err)
		}
		return
	}
	defer unlock()
	if !m.expired(sb) {
		return
	}
	action := sb.Spec.OnExpire
	if action == "" {
		action = sandbox.ExpireDelete
	}
	actx := audit.WithOrigin(ctx, audit.Origin{Actor: "ttl-reaper"})
	m.record(actx, audit.SandboxExpired, sb.Name, map[string]any{"id": sb.ID, "action": action})
	switch action {
	case sandbox.ExpirePause:
		// E2B's autoPause: the sandbox keeps memory and disk; a paused sandbox does not expire,
		// so the reaper leaves it alone until a connect or a request resumes it.
		if _, err := m.freezeLocked(actx, sb, true); err != nil {
			m.log.Error("ttl reaper: pause", "sandbox", sb.ID, "err", err)
		}
		return
	case sandbox.ExpireStop:
		if _, err := m.stopLocked(actx, sb); err != nil {
			m.log.Error("ttl reaper: stop", "sandbox", sb.ID, "err", err)
		}
		return
	}
	if err := m.deleteLocked(actx, sb); err != nil && !errdefs.IsNotFound(err) {
		m.log.Error("ttl reaper: delete", "sandbox", sb.ID, "err", err)
	}
}

// SetExpiry sets a sandbox's deadline to at (overwriting it), or clears it when at is zero.
func (m *Manager) SetExpiry(ctx context.Context, idOrName string, at time.Time) (*sandbox.Sandbox, error) {
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if at.IsZero() {
		sb.ExpiresAt = nil
	} else {
		at = at.UTC()
		sb.ExpiresAt = &at
	}
	return m.setExpiryState(ctx, sb)
}
