package manager

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// defaultResumeTTL is how long a sandbox resumed by a request runs when it has no TTL of its
// own (E2B's default timeout).
const defaultResumeTTL = 5 * time.Minute

// activity remembers when each sandbox was last used: an API call on it, an exec, a file
// operation or a proxied request (every one of them reads the sandbox through authorize),
// and how many proxied requests are in flight (a sandbox serving one is not idle, however
// long it streams). It lives in memory: after a restart every sandbox counts as used at its
// first look. With replicas (shareActivity) the uses not yet shared are kept apart, for the
// next flush to the store.
type activity struct {
	last sync.Map // sandbox ID → time.Time
	busy sync.Map // sandbox ID → *atomic.Int64, requests in flight

	shared bool // uses are shared through the store (set before any use)
	mu     sync.Mutex
	unsent map[string]time.Time // uses since the last flush
}

func (a *activity) touch(id string, now time.Time) {
	a.last.Store(id, now)
	if a.shared {
		a.mu.Lock()
		a.unsent[id] = now
		a.mu.Unlock()
	}
}

// hold counts a request in flight until the returned func is called.
func (a *activity) hold(id string) func() {
	v, _ := a.busy.LoadOrStore(id, new(atomic.Int64))
	n := v.(*atomic.Int64)
	n.Add(1)
	var once sync.Once
	return func() { once.Do(func() { n.Add(-1) }) }
}

func (a *activity) inFlight(id string) bool {
	v, ok := a.busy.Load(id)
	return ok && v.(*atomic.Int64).Load() > 0
}

// since reports when id was last used, counting now as a first use when unknown.
func (a *activity) since(id string, now time.Time) time.Time {
	v, _ := a.last.LoadOrStore(id, now)
	return v.(time.Time)
}

func (a *activity) forget(id string) {
	a.last.Delete(id)
	a.busy.Delete(id)
	a.mu.Lock()
	delete(a.unsent, id)
	a.mu.Unlock()
}

// take returns the uses to share and forgets them; a sandbox serving a request counts as
// used at now, so that a long stream through this replica keeps it busy for the others.
func (a *activity) take(now time.Time) map[string]time.Time {
	a.mu.Lock()
	out := a.unsent
	a.unsent = map[string]time.Time{}
	a.mu.Unlock()
	a.busy.Range(func(k, v any) bool {
		if v.(*atomic.Int64).Load() > 0 {
			out[k.(string)] = now
		}
		return true
	})
	return out
}

// giveBack keeps uses whose flush failed for the next one (a later use wins).
func (a *activity) giveBack(uses map[string]time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, at := range uses {
		if at.After(a.unsent[id]) {
			a.unsent[id] = at
		}
	}
}

// DefaultActivityFlush is how often a replica shares the uses it saw (Config.ActivityFlush).
const DefaultActivityFlush = 5 * time.Second

// shareActivity flushes this replica's uses to the store every interval until ctx ends, and
// once more then (a replica that stops shares what it saw last).
func (m *Manager) shareActivity(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			m.flushActivity(fctx)
			cancel()
			return
		case <-t.C:
			m.flushActivity(ctx)
		}
	}
}

// flushActivity writes the uses seen since the last flush to the store.
func (m *Manager) flushActivity(ctx context.Context) {
	uses := m.activity.take(m.cfg.Now())
	if len(uses) == 0 {
		return
	}
	if err := m.cfg.Activity.NoteActivity(ctx, uses); err != nil {
		m.activity.giveBack(uses)
		m.log.Warn("share sandbox activity; kept for the next try", "sandboxes", len(uses), "err", err)
	}
}

type quietKey struct{}

// quiet marks ctx as the server's own work (the reaper), which does not count as use.
func quiet(ctx context.Context) context.Context { return context.WithValue(ctx, quietKey{}, true) }

// touch records a use of sb, unless ctx is the server's own work.
func (m *Manager) touch(ctx context.Context, id string) {
	if ctx.Value(quietKey{}) == nil {
		m.activity.touch(id, m.cfg.Now())
	}
}

// validateAutoPause checks the idle and auto-resume settings of a spec.
func validateAutoPause(spec sandbox.Spec) error {
	switch {
	case spec.IdleTimeout < 0 || spec.IdleTimeout > maxTTL:
		return errdefs.InvalidArgument("idle timeout %s is out of range: use 0 (none) or up to %s", spec.IdleTimeout, maxTTL)
	case spec.AutoResume && spec.OnExpire != sandbox.ExpirePause && spec.IdleTimeout == 0:
		return errdefs.InvalidArgument("autoResume needs a sandbox that pauses: set autoPause (onTimeout: pause) or an idle timeout")
	}
	return nil
}

// idle reports whether sb is running and unused for longer than its idle timeout, by this
// replica and, when replicas share activity, by the others as far as they have flushed.
// When the others' view cannot be read, nothing is judged idle.
func (m *Manager) idle(ctx context.Context, sb *sandbox.Sandbox) bool {
	if sb.Spec.IdleTimeout <= 0 || sb.State != sandbox.StateRunning || m.activity.inFlight(sb.ID) {
		return false
	}
	now := m.cfg.Now()
	last := m.activity.since(sb.ID, now)
	if now.Sub(last) < sb.Spec.IdleTimeout {
		return false
	}
	if m.cfg.Activity == nil {
		return true
	}
	shared, err := m.cfg.Activity.LastActivity(ctx, []string{sb.ID})
	if err != nil {
		m.log.Warn("idle reaper: read the replicas' activity; not pausing", "sandbox", sb.ID, "err", err)
		return false
	}
	if at, ok := shared[sb.ID]; ok && at.After(last) {
		return now.Sub(at) >= sb.Spec.IdleTimeout
	}
	return true
}

// pauseIdle pauses one idle sandbox, if it still is idle under its lock.
func (m *Manager) pauseIdle(ctx context.Context, id string) {
	sb, unlock, err := m.locked(ctx, id, AccessOwn)
	if err != nil {
		if !errdefs.IsNotFound(err) {
			m.log.Error("idle reaper: read", "sandbox", id, "err", err)
		}
		return
	}
	defer unlock()
	if !m.idle(ctx, sb) {
		return
	}
	actx := audit.WithOrigin(ctx, audit.Origin{Actor: "idle-reaper"})
	m.record(actx, audit.SandboxExpired, sb.Name, map[string]any{"id": sb.ID, "action": "pause", "idle": sb.Spec.IdleTimeout.String()})
	if _, err := m.freezeLocked(actx, sb, true); err != nil {
		m.log.Error("idle reaper: pause", "sandbox", sb.ID, "err", err)
	}
}

// Serving marks a request to sandbox id as in flight until done is called: the sandbox is
// not idle while it lasts (a long stream or transfer), and its idle time counts from its end.
func (m *Manager) Serving(ctx context.Context, id string) (done func()) {
	m.touch(ctx, id)
	release := m.activity.hold(id)
	return func() {
		release()
		m.touch(ctx, id)
	}
}

// WakeForRequest is called with the record of a sandbox a request is about to reach (read
// by the caller, possibly from a cache): it counts the request as use and, when the sandbox
// is paused and resumes on traffic (E2B's autoResume), thaws it with a fresh deadline of its
// TTL (5 minutes without one) under its lock, so that concurrent first requests resume it
// once and all wait for it. Any other sandbox is returned as it is, without a store read.
// The caller has already admitted the request (an API key, or the sandbox's traffic
// token), so no access check is made here.
func (m *Manager) WakeForRequest(ctx context.Context, seen *sandbox.Sandbox) (*sandbox.Sandbox, error) {
	m.touch(ctx, seen.ID)
	if seen.State != sandbox.StatePaused || !seen.Spec.AutoResume {
		return seen, nil
	}
	unlock, err := m.lock(ctx, seen.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sb, err := m.store.GetSandbox(ctx, seen.ID)
	if err != nil {
		return nil, err
	}
	if sb.State != sandbox.StatePaused {
		return sb, nil // another request resumed it while this one waited
	}
	ttl := sb.Spec.TTL
	if ttl <= 0 {
		ttl = defaultResumeTTL
	}
	actx := audit.WithOrigin(ctx, audit.Origin{Actor: "auto-resume"})
	if sb, err = m.keepUntilLocked(actx, sb, m.cfg.Now().Add(ttl)); err != nil {
		return nil, err
	}
	return m.freezeLocked(actx, sb, false)
}
