package manager

import (
	"context"
	"fmt"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Reconcile makes the store (what users asked for) and the driver (what runs) agree: it
// adopts running sandboxes whose guests answer, restarts ones that should run but do not,
// finishes interrupted creates and deletes, and deletes units nobody has a record of (such as
// warm-pool leftovers of a previous process). It is for start-up, before anything else runs;
// afterwards the periodic pass (watch.go) marks sandboxes whose unit died as failed.
func (m *Manager) Reconcile(ctx context.Context) error {
	insts, err := m.driver.List(ctx)
	if err != nil {
		return fmt.Errorf("list %s units: %w", m.driver.Name(), err)
	}
	recs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{})
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	units := make(map[string]sandbox.Instance, len(insts))
	for _, in := range insts {
		units[in.ID] = in
	}
	for _, sb := range recs {
		in, ok := units[sb.ID]
		delete(units, sb.ID)
		if !m.mine(sb) {
			continue // another node's: its own replica reconciles it
		}
		// Under its lock: another replica may be creating, stopping or deleting it.
		unlock, free := m.tryLock(ctx, sb.ID)
		if !free {
			m.log.Info("reconcile: sandbox busy on another replica; left to it", "sandbox", sb.ID)
			continue
		}
		cur, err := m.store.GetSandbox(ctx, sb.ID)
		restart := err == nil && m.reconcileOne(ctx, cur, in, ok)
		unlock()
		if restart {
			m.restart(ctx, cur)
		}
	}
	for id := range units {
		if m.cfg.SharedDriver {
			// Another replica's warm sandbox, or its create in progress (the unit comes
			// before the record): not this replica's to delete.
			m.log.Info("reconcile: unit with no record left alone: the driver is shared", "sandbox", id)
			continue
		}
		m.log.Info("reconcile: deleting unit with no record", "sandbox", id)
		if err := m.driver.Delete(ctx, id); err != nil {
			m.log.Error("reconcile: delete orphan", "sandbox", id, "err", err)
		}
	}
	return nil
}

// reconcileOne brings one sandbox, whose lock the caller holds, in line with its unit; it
// reports whether the sandbox should be restarted (after the lock is released).
func (m *Manager) reconcileOne(ctx context.Context, sb *sandbox.Sandbox, in sandbox.Instance, exists bool) (restart bool) {
	log := m.log.With("sandbox", sb.ID, "name", sb.Name)
	switch {
	case sb.State == sandbox.StateCreating || sb.State == sandbox.StateRemoving:
		log.Info("reconcile: finishing interrupted create/delete")
		if err := m.driver.Delete(ctx, sb.ID); err != nil {
			log.Error("reconcile: delete", "err", err)
			return false
		}
		_ = m.deleteRecord(ctx, sb.ID)
	case !exists:
		log.Warn("reconcile: sandbox's unit is gone")
		if sb.State != sandbox.StateFailed {
			const reason = "its container disappeared while Paddock was not running"
			m.record(ctx, audit.SandboxFailed, sb.Name, map[string]any{"id": sb.ID, "reason": reason})
			_, _ = m.setState(ctx, sb, sandbox.StateFailed, reason)
		}
	case sb.State == sandbox.StateStopped:
		if in.State != sandbox.StateStopped {
			if in.State == sandbox.StateRunning {
				m.terminate(ctx, sb)
			}
			m.dropClient(sb.ID)
			_ = m.driver.Stop(ctx, sb.ID, 0)
		}
	case in.State == sandbox.StatePaused:
		if sb.State != sandbox.StatePaused {
			_, _ = m.setState(ctx, sb, sandbox.StatePaused, "")
		}
		if err := m.reattachNetwork(ctx, sb); err != nil {
			log.Error("reconcile: reconnect network", "err", err)
		}
		m.watchExit(sb.ID)
	case in.State == sandbox.StateRunning && m.adopt(ctx, sb) == nil:
		if sb.State != sandbox.StateRunning {
			_, _ = m.setState(ctx, sb, sandbox.StateRunning, "")
		}
		if err := m.reattachNetwork(ctx, sb); err != nil {
			log.Error("reconcile: reconnect network", "err", err)
		}
		m.watchExit(sb.ID)
		log.Info("reconcile: adopted running sandbox")
	case sb.State == sandbox.StateFailed:
		// Failed stays failed until someone starts it; a unit whose guest is dead is released.
		m.dropClient(sb.ID)
		_ = m.driver.Stop(ctx, sb.ID, 0)
	default:
		// It should run but does not (or its guest is dead): bring it back from its disk.
		log.Warn("reconcile: restarting sandbox", "unit_state", in.State)
		_ = m.driver.Stop(ctx, sb.ID, 0)
		sb.State = sandbox.StateStopped
		if _, err := m.setState(ctx, sb, sandbox.StateStopped, ""); err != nil {
			return false
		}
		return true
	}
	return false
}

// restart starts a sandbox reconcile found stopped that should run (Start takes its lock).
func (m *Manager) restart(ctx context.Context, sb *sandbox.Sandbox) {
	if _, err := m.Start(ctx, sb.ID); err != nil {
		m.log.Error("reconcile: restart failed", "sandbox", sb.ID, "err", err)
		_, _ = m.setState(ctx, sb, sandbox.StateFailed, "could not be restarted: "+err.Error())
	}
}

// adopt checks that a running unit's guest answers with the recorded token.
func (m *Manager) adopt(ctx context.Context, sb *sandbox.Sandbox) error {
	rctx, cancel := context.WithTimeout(ctx, m.cfg.ReadyTimeout)
	defer cancel()
	c := m.client(sb)
	if err := c.Health(rctx); err != nil {
		m.dropClient(sb.ID)
		return err
	}
	// /envs is token-protected: a guest that accepts our token is ours.
	if _, err := c.Envs(rctx); err != nil {
		m.dropClient(sb.ID)
		return errdefs.Unavailable("guest of %s rejected its token: %v", sb.ID, err)
	}
	return nil
}
