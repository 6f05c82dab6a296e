package manager

import (
	"context"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// discardTimeout bounds one background deletion.
const discardTimeout = 30 * time.Second

// Discard deletes a sandbox in the background, for callers whose answer should not wait for
// the teardown (a one-shot run's sandbox). Close waits for every such deletion; a failure is
// logged.
func (m *Manager) Discard(ctx context.Context, id string) {
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discardTimeout)
		defer cancel()
		if err := m.Delete(dctx, id); err != nil {
			m.log.Error("discard sandbox", "sandbox", id, "err", err)
		}
	}()
}

// WaitDiscards blocks until the background deletions started so far have finished.
func (m *Manager) WaitDiscards() { m.bg.Wait() }

// StopAll stops every running or paused sandbox, once the background deletions are done (a
// server that stops its sandboxes on exit). Failures are logged.
func (m *Manager) StopAll(ctx context.Context) {
	m.bg.Wait()
	sbs, err := m.store.ListSandboxes(ctx, sandbox.ListFilter{States: []sandbox.State{sandbox.StateRunning, sandbox.StatePaused}})
	if err != nil {
		m.log.Error("stop all: list", "err", err)
		return
	}
	for _, sb := range sbs {
		if _, err := m.Stop(ctx, sb.ID); err != nil && !errdefs.IsNotFound(err) {
			m.log.Error("stop all", "sandbox", sb.ID, "err", err)
		}
	}
}
