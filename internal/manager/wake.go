package manager

import (
	"context"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// Wake brings a sandbox back to running with a deadline at least d from now, in one step
// under the sandbox's lock: a running one only has its deadline moved (never earlier); a
// paused one is thawed, or, with keepMemory false, stopped and cold-booted from its disk; a
// stopped or failed one is cold-booted. The deadline moves before the sandbox runs again: a
// paused sandbox does not time out, and one whose deadline passed while it was paused must
// not be reaped the moment it resumes. This is E2B's connect and resume.
func (m *Manager) Wake(ctx context.Context, idOrName string, d time.Duration, keepMemory bool) (*sandbox.Sandbox, error) {
	if d <= 0 || d > maxTTL {
		return nil, errdefs.InvalidArgument("timeout %s is out of range: use a positive duration up to %s", d, maxTTL)
	}
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	switch sb.State {
	case sandbox.StateRunning, sandbox.StatePaused, sandbox.StateStopped, sandbox.StateFailed:
	default:
		return nil, errdefs.FailedPrecondition("sandbox %q is %s", sb.Name, sb.State)
	}
	if sb, err = m.keepUntilLocked(ctx, sb, m.cfg.Now().Add(d)); err != nil {
		return nil, err
	}
	switch {
	case sb.State == sandbox.StateRunning:
		return sb, nil
	case sb.State == sandbox.StatePaused && keepMemory:
		return m.freezeLocked(ctx, sb, false)
	case sb.State == sandbox.StatePaused:
		if sb, err = m.stopLocked(ctx, sb); err != nil {
			return nil, err
		}
	}
	return m.startLocked(ctx, sb, &quotaHold{})
}

// KeepUntil moves a sandbox's deadline to at, unless it is already later: it only ever
// extends (E2B's refresh).
func (m *Manager) KeepUntil(ctx context.Context, idOrName string, at time.Time) (*sandbox.Sandbox, error) {
	sb, unlock, err := m.locked(ctx, idOrName, AccessOperate)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return m.keepUntilLocked(ctx, sb, at)
}

func (m *Manager) keepUntilLocked(ctx context.Context, sb *sandbox.Sandbox, at time.Time) (*sandbox.Sandbox, error) {
	if sb.ExpiresAt != nil && !sb.ExpiresAt.Before(at) {
		return sb, nil
	}
	at = at.UTC()
	sb.ExpiresAt = &at
	return m.setExpiryState(ctx, sb)
}
