package fleet

import (
	"context"
	"fmt"
	"slices"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/template"
)

// CreateRequest is POST /api/agents's body.
type CreateRequest struct {
	Name               string     `json:"name"`
	Type               string     `json:"type,omitempty"`
	Template           string     `json:"template,omitempty"`
	Runtime            string     `json:"runtime,omitempty"`
	RuntimeModel       string     `json:"runtime_model,omitempty"`
	Resources          *Resources `json:"resources,omitempty"`
	CustomInstructions string     `json:"custom_instructions,omitempty"`
	GithubRepo         string     `json:"github_repo,omitempty"`
}

// knownRuntimes run on the base template until an admin adds a template of their name.
var knownRuntimes = []string{"claude-code", "gemini-cli", "shell"}

// runtime finds the template of a runtime.
func (s *Service) runtime(ctx context.Context, name string) (template.Template, error) {
	if s.opts.Runtimes != nil {
		t, err := s.opts.Runtimes(ctx, name)
		if err == nil {
			return t, nil
		}
		if !errdefs.IsNotFound(err) {
			return template.Template{}, err
		}
		if !slices.Contains(knownRuntimes, name) {
			return template.Template{}, fieldError("runtime", "unknown runtime %q: use claude-code, gemini-cli, shell or a template's name", name)
		}
		if base, err := s.opts.Runtimes(ctx, template.Base); err == nil {
			return base, nil
		}
	} else if !slices.Contains(knownRuntimes, name) {
		return template.Template{}, fieldError("runtime", "unknown runtime %q: use claude-code, gemini-cli or shell", name)
	}
	return template.Template{Name: template.Base, Image: "base"}, nil
}

// Create makes an agent: its workspace volume ws-<id> and a running sandbox from its runtime
// with the workspace mounted. On any error nothing is left behind.
func (s *Service) Create(ctx context.Context, req CreateRequest) (_ *Agent, _ string, err error) {
	name, err := SanitizeName("name", req.Name)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.store.GetAgent(ctx, name); err == nil {
		return nil, "", errdefs.AlreadyExists("agent %q already exists", name)
	} else if !errdefs.IsNotFound(err) {
		return nil, "", err
	}
	a := &Agent{ID: newID(), Name: name, Owner: manager.CallerFrom(ctx).UserID, Type: req.Type, Template: req.Template,
		Runtime: req.Runtime, RuntimeModel: req.RuntimeModel, CustomInstructions: req.CustomInstructions,
		GithubRepo: req.GithubRepo, Tags: []string{}, ExecutionTimeoutSeconds: DefaultTimeoutSeconds,
		ReadOnly:  ReadOnly{BlockedPatterns: slices.Clone(DefaultBlockedPatterns), AllowedPatterns: slices.Clone(DefaultAllowedPatterns)},
		CreatedAt: s.opts.Now().UTC()}
	if a.Type == "" {
		a.Type = DefaultType
	}
	if a.Runtime == "" {
		a.Runtime = DefaultRuntime
	}
	a.Resources = Resources{CPU: DefaultCPU, Memory: DefaultMemory}
	if req.Resources != nil {
		if req.Resources.CPU != "" {
			a.Resources.CPU = req.Resources.CPU
		}
		if req.Resources.Memory != "" {
			a.Resources.Memory = req.Resources.Memory
		}
	}
	cpu, err := s.opts.Limits.ParseCPU(a.Resources.CPU)
	if err != nil {
		return nil, "", err
	}
	memMB, err := s.opts.Limits.ParseMemory(a.Resources.Memory)
	if err != nil {
		return nil, "", err
	}
	tmpl, err := s.runtime(ctx, a.Runtime)
	if err != nil {
		return nil, "", err
	}
	sys := manager.AsSystem(ctx)
	a.WorkspaceVolume = "ws-" + a.ID
	if err := s.m.CreateVolume(sys, sandbox.Volume{ID: a.WorkspaceVolume, Labels: map[string]string{"paddock.agent": a.ID}}); err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil {
			s.undoCreate(ctx, a)
		}
	}()
	// As the caller, so that their quota (sandboxes, memory, CPUs, creations) applies.
	sb, err := s.newSandbox(ctx, a, tmpl, cpu, memMB)
	if err != nil {
		return nil, "", err
	}
	a.SandboxID = sb.ID
	if err := s.store.CreateAgent(ctx, a); err != nil {
		return nil, "", err
	}
	s.log.Info("agent created", "agent", a.ID, "name", a.Name, "sandbox", sb.ID)
	return a, s.runHook(ctx, a), nil
}

// newSandbox creates and starts the agent's sandbox, as the caller of ctx (whose quota
// applies), owned by the agent's owner.
func (s *Service) newSandbox(ctx context.Context, a *Agent, tmpl template.Template, cpu int, memMB int64) (*sandbox.Sandbox, error) {
	mounts, err := s.mounts(ctx, a)
	if err != nil {
		return nil, err
	}
	env := map[string]string{"PADDOCK_AGENT_ID": a.ID}
	if a.RuntimeModel != "" {
		env["RUNTIME_MODEL"] = a.RuntimeModel
	}
	spec := tmpl.Apply(sandbox.Spec{Name: sandboxName(a.ID), VCPUs: float64(cpu), MemoryMB: memMB,
		Workdir: s.opts.Workspace, Env: env, Mounts: mounts,
		Labels: map[string]string{"paddock.agent": a.ID}})
	sb, err := s.m.CreateDedicated(ctx, spec, a.Owner, tmpl.CreateOptions()...)
	if err != nil {
		return nil, fmt.Errorf("create sandbox of agent %s: %w", a.Name, err)
	}
	return sb, nil
}

// recreate makes a new sandbox for an agent whose sandbox is gone (deleted through another
// surface, lost by the driver): the workspace volume is kept, so nothing of the agent's work
// is lost. Its shares move to the new sandbox.
func (s *Service) recreate(ctx context.Context, a *Agent) error {
	cpu, err := s.opts.Limits.ParseCPU(a.Resources.CPU)
	if err != nil {
		return err
	}
	memMB, err := s.opts.Limits.ParseMemory(a.Resources.Memory)
	if err != nil {
		return err
	}
	tmpl, err := s.runtime(ctx, a.Runtime)
	if err != nil {
		return err
	}
	sys := manager.AsSystem(ctx)
	sb, err := s.newSandbox(sys, a, tmpl, cpu, memMB)
	if err != nil {
		return err
	}
	old := a.SandboxID
	a.SandboxID = sb.ID
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		cctx, cancel := cleanupCtx(ctx)
		defer cancel()
		_ = s.m.Delete(manager.AsSystem(cctx), sb.ID)
		return err
	}
	s.log.Warn("agent's sandbox was gone: made a new one on its workspace", "agent", a.ID, "old", old, "sandbox", sb.ID)
	if s.opts.Shares == nil {
		return nil
	}
	shs, err := s.opts.Shares.ListShares(ctx, old)
	if err != nil {
		return err
	}
	for _, sh := range shs {
		sh.SandboxID = sb.ID
		if err := s.opts.Shares.PutShare(ctx, sh); err != nil {
			return err
		}
	}
	return s.opts.Shares.DeleteSandboxShares(ctx, old)
}

// undoCreate removes what a failed Create made.
func (s *Service) undoCreate(ctx context.Context, a *Agent) {
	cctx, cancel := cleanupCtx(ctx)
	defer cancel()
	if a.SandboxID != "" {
		if err := s.m.Delete(manager.AsSystem(cctx), a.SandboxID); err != nil && !errdefs.IsNotFound(err) {
			s.log.Error("undo agent create: delete sandbox", "agent", a.ID, "sandbox", a.SandboxID, "err", err)
		}
	}
	if err := s.m.DeleteVolume(manager.AsSystem(cctx), a.WorkspaceVolume); err != nil {
		s.log.Error("undo agent create: delete volume", "agent", a.ID, "err", err)
	}
}

// runHook runs the start hook and answers credentials_injection.
func (s *Service) runHook(ctx context.Context, a *Agent) string {
	if s.opts.StartHook == nil {
		return "skipped"
	}
	res, err := s.opts.StartHook(ctx, a)
	if err != nil {
		s.log.Error("agent start hook", "agent", a.ID, "err", err)
		return "failed"
	}
	return res
}

// Delete removes an agent and everything it has: sandbox, volumes, schedules, shares (with
// the sandbox), tags and saved log. Only its owner and admins may.
func (s *Service) Delete(ctx context.Context, name string) error {
	a, _, err := s.get(ctx, name, AccessOwn)
	if err != nil {
		return err
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return err
	}
	defer unlock()
	sys := manager.AsSystem(ctx)
	if err := s.m.Delete(sys, a.SandboxID); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete sandbox of agent %s: %w", a.Name, err)
	}
	if s.opts.Shares != nil {
		if err := s.opts.Shares.DeleteSandboxShares(ctx, a.SandboxID); err != nil {
			return fmt.Errorf("delete shares of agent %s: %w", a.Name, err)
		}
	}
	if err := s.m.DeleteVolume(sys, a.WorkspaceVolume); err != nil {
		return err
	}
	// A shared folder that a running consumer still mounts stays until that consumer stops
	// (the driver refuses to remove a mounted volume); it is logged, not fatal.
	if err := s.m.DeleteVolume(sys, a.SharedVolume()); err != nil {
		s.log.Warn("shared folder of a deleted agent kept: a consumer mounts it", "agent", a.ID, "err", err)
	}
	if s.opts.Schedules != nil {
		if err := s.opts.Schedules.DeleteAgent(ctx, a.ID); err != nil {
			return fmt.Errorf("delete schedules of agent %s: %w", a.Name, err)
		}
	}
	if s.opts.OnDelete != nil {
		if err := s.opts.OnDelete(ctx, a.ID); err != nil {
			return fmt.Errorf("delete agent %s: %w", a.Name, err)
		}
	}
	if err := s.store.DeleteAgent(ctx, a.ID); err != nil {
		return err
	}
	s.log.Info("agent deleted", "agent", a.ID, "name", a.Name)
	return nil
}

// Start starts an agent's sandbox with its mounts recomputed (read-only mode, shared folders
// it consumes now), then runs the start hook. Starting a running agent only runs the hook.
func (s *Service) Start(ctx context.Context, name string) (*Agent, string, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, "", err
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return nil, "", err
	}
	err = s.startLocked(ctx, a)
	unlock()
	if err != nil {
		return nil, "", err
	}
	return a, s.runHook(ctx, a), nil
}

func (s *Service) startLocked(ctx context.Context, a *Agent) error {
	sys := manager.AsSystem(ctx)
	sb, err := s.m.Get(sys, a.SandboxID)
	if errdefs.IsNotFound(err) {
		return s.recreate(ctx, a)
	}
	if err != nil {
		return err
	}
	if sb.State == sandbox.StateStopped || sb.State == sandbox.StateFailed {
		if err := s.remount(ctx, a, sb); err != nil {
			return err
		}
	}
	if _, err := s.m.Start(sys, a.SandboxID); err != nil {
		return fmt.Errorf("start agent %s: %w", a.Name, err)
	}
	return nil
}

// Stop saves the runtime's log and stops the agent's sandbox; its workspace stays.
func (s *Service) Stop(ctx context.Context, name string) (*Agent, error) {
	a, _, err := s.get(ctx, name, AccessUse)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return a, s.stopLocked(ctx, a)
}

func (s *Service) stopLocked(ctx context.Context, a *Agent) error {
	s.saveLog(ctx, a)
	if _, err := s.m.Stop(manager.AsSystem(ctx), a.SandboxID); err != nil {
		return fmt.Errorf("stop agent %s: %w", a.Name, err)
	}
	return nil
}

// RenameResult is what a rename answers (upstream's fields).
type RenameResult struct {
	OldName    string
	NewName    string
	WasRunning bool
}

// Rename gives an agent a new name. Everything is keyed by its ID (sandbox, volumes,
// schedules, shares, tags), so nothing else moves; the sandbox keeps running. Consumers of
// its shared folder see it under the new name from their next start.
func (s *Service) Rename(ctx context.Context, name, newName string) (*RenameResult, error) {
	a, _, err := s.get(ctx, name, AccessOwn)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	n, err := SanitizeName("new_name", newName)
	if err != nil {
		return nil, err
	}
	if n == a.Name {
		return nil, fieldError("new_name", "new name is the same as current name")
	}
	if _, err := s.store.GetAgent(ctx, n); err == nil {
		return nil, errdefs.AlreadyExists("agent with name %q already exists", n)
	}
	old := a.Name
	a.Name = n
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		return nil, err
	}
	s.log.Info("agent renamed", "agent", a.ID, "from", old, "to", n)
	return &RenameResult{OldName: old, NewName: n, WasRunning: s.Status(ctx, a) == "running"}, nil
}
