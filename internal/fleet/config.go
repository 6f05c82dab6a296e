package fleet

import (
	"context"
	"errors"
	"slices"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// update applies change to an owned agent under its lock and stores it.
func (s *Service) update(ctx context.Context, name string, change func(a *Agent) error) (*Agent, error) {
	a, _, err := s.get(ctx, name, AccessOwn)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if a, err = s.store.GetAgent(ctx, a.ID); err != nil { // as it is under the lock
		return nil, err
	}
	if err := change(a); err != nil {
		return nil, err
	}
	return a, s.store.UpdateAgent(ctx, a)
}

// SetTimeout sets an agent's execution timeout (60-7200 s).
func (s *Service) SetTimeout(ctx context.Context, name string, seconds int) (*Agent, error) {
	if err := CheckTimeout(seconds); err != nil {
		return nil, err
	}
	return s.update(ctx, name, func(a *Agent) error { a.ExecutionTimeoutSeconds = seconds; return nil })
}

// SetTags replaces an agent's tags (normalised as upstream does).
func (s *Service) SetTags(ctx context.Context, name string, tags []string) (*Agent, error) {
	norm, err := NormalizeTags(tags)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, name, func(a *Agent) error { a.Tags = norm; return nil })
}

// SetAutonomy turns the gate on the agent's schedules on or off; per-schedule flags stay.
func (s *Service) SetAutonomy(ctx context.Context, name string, enabled bool) (*Agent, error) {
	return s.update(ctx, name, func(a *Agent) error { a.AutonomyEnabled = enabled; return nil })
}

// ScheduleCounts are an agent's schedules, all and enabled (0, 0 without a schedules
// package).
func (s *Service) ScheduleCounts(ctx context.Context, a *Agent) (total, enabled int, err error) {
	if s.opts.Schedules == nil {
		return 0, 0, nil
	}
	return s.opts.Schedules.Counts(ctx, a.ID)
}

// ReadOnlyResult says what a read-only change did to a running agent.
type ReadOnlyResult struct {
	Agent *Agent
	// Remounted: the agent was running, and was stopped, re-mounted and started again.
	Remounted bool
}

// SetReadOnly records read-only mode and its patterns (nil patterns: upstream's defaults
// when enabling, the current ones when disabling) and applies it through the mounts: a
// stopped agent gets them at its next start, a running one is stopped, re-mounted and
// started at once.
func (s *Service) SetReadOnly(ctx context.Context, name string, enabled bool, blocked, allowed []string) (*ReadOnlyResult, error) {
	if err := CheckPatterns("config.blocked_patterns", blocked); err != nil {
		return nil, err
	}
	if err := CheckPatterns("config.allowed_patterns", allowed); err != nil {
		return nil, err
	}
	a, _, err := s.get(ctx, name, AccessOwn)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if a, err = s.store.GetAgent(ctx, a.ID); err != nil {
		return nil, err
	}
	a.ReadOnly.Enabled = enabled
	switch {
	case blocked != nil || allowed != nil:
		a.ReadOnly.BlockedPatterns, a.ReadOnly.AllowedPatterns = nonNil(blocked), nonNil(allowed)
	case enabled:
		a.ReadOnly.BlockedPatterns = slices.Clone(DefaultBlockedPatterns)
		a.ReadOnly.AllowedPatterns = slices.Clone(DefaultAllowedPatterns)
	}
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		return nil, err
	}
	res := &ReadOnlyResult{Agent: a}
	sb, err := s.m.Get(manager.AsSystem(ctx), a.SandboxID)
	if err != nil {
		return nil, err
	}
	switch sb.State {
	case sandbox.StateRunning, sandbox.StatePaused:
		if err := s.stopLocked(ctx, a); err != nil {
			return nil, err
		}
		if err := s.startLocked(ctx, a); err != nil {
			return nil, err
		}
		s.runHook(ctx, a)
		res.Remounted = true
	case sandbox.StateStopped, sandbox.StateFailed:
		if err := s.remount(ctx, a, sb); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SetFolders changes what an agent shares (expose) and mounts (consume); nil leaves a flag.
// Exposing makes the shared volume sh-<id>. Changes apply at the agent's next start.
func (s *Service) SetFolders(ctx context.Context, name string, expose, consume *bool) (*Agent, error) {
	return s.update(ctx, name, func(a *Agent) error {
		if expose != nil {
			a.Folders.Expose = *expose
		}
		if consume != nil {
			a.Folders.Consume = *consume
		}
		if !a.Folders.Expose {
			return nil
		}
		err := s.m.CreateVolume(manager.AsSystem(ctx), sandbox.Volume{ID: a.SharedVolume(), Labels: map[string]string{"paddock.agent": a.ID}})
		if errors.Is(err, errdefs.ErrAlreadyExists) {
			return nil
		}
		return err
	})
}

// mayConsume reports whether consumer may mount producer's folder: the same owner, or the
// producer shared with the consumer's owner.
func (s *Service) mayConsume(ctx context.Context, consumer, producer *Agent) (bool, error) {
	if producer.ID == consumer.ID || !producer.Folders.Expose {
		return false, nil
	}
	if producer.Owner == consumer.Owner {
		return true, nil
	}
	if s.opts.Shares == nil || consumer.Owner == "" {
		return false, nil
	}
	_, err := s.opts.Shares.GetShare(ctx, producer.SandboxID, consumer.Owner)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// producersFor are the agents whose folders consumer may mount, oldest first.
func (s *Service) producersFor(ctx context.Context, consumer *Agent) ([]*Agent, error) {
	all, err := s.store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Agent
	for _, p := range all {
		ok, err := s.mayConsume(ctx, consumer, p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Available are the folders an agent may mount (whether or not it consumes).
func (s *Service) Available(ctx context.Context, name string) (*Agent, []*Agent, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, nil, err
	}
	ps, err := s.producersFor(ctx, a)
	return a, ps, err
}

// Consumers are the consuming agents that may mount this agent's folder.
func (s *Service) Consumers(ctx context.Context, name string) (*Agent, []*Agent, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, nil, err
	}
	all, err := s.store.ListAgents(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []*Agent
	for _, c := range all {
		if !c.Folders.Consume {
			continue
		}
		ok, err := s.mayConsume(ctx, c, a)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return a, out, nil
}

// Mounted reports which destinations an agent's sandbox has mounted now.
func (s *Service) Mounted(ctx context.Context, a *Agent) map[string]bool {
	out := map[string]bool{}
	if sb := s.Sandbox(ctx, a); sb != nil {
		for _, m := range sb.Instance.Mounts {
			out[m.Destination] = true
		}
	}
	return out
}
