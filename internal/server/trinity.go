package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/api/trinity"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/runtimes"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/template"
)

// agentParts are Trinity's agents as the server assembles them: the fleet, the schedules
// it gates, the credentials injected at each start, and the stores of SSH grants.
type agentParts struct {
	m         *manager.Manager
	fleet     *fleet.Service
	schedules *schedule.Service
	creds     *credential.Service
	grants    sshgate.Store
	log       *slog.Logger
	// stop removes the schedule runner from the leader's duties (started by runSchedules)
	// and waits for it to return.
	stop func()
	once sync.Once
}

// openTrinity builds Trinity's agents and their surface over the engine.
func (s *Server) openTrinity(log *slog.Logger) error {
	eng := s.eng
	key, err := credential.LoadKey(s.cfg.CredentialKey, s.cfg.DataDir)
	if err != nil {
		return err
	}
	ws := s.cfg.AgentWorkspace
	p := &agentParts{m: eng.Manager, grants: eng.SSHGrants, log: log.With("op", "agents")}
	p.creds = credential.New(eng.Credentials, key, eng.Manager, credential.Options{Workspace: ws, Log: log.With("op", "credentials")})
	p.schedules = schedule.New(eng.Schedules, schedule.Options{Gate: p.gate, Log: log.With("op", "schedules")})
	p.fleet, err = fleet.New(fleet.Options{Manager: eng.Manager, Store: eng.Fleet, Locker: eng.Locker, Runtimes: s.runtimeTemplate,
		Shares: eng.Accounts, Users: s.accounts, Runs: eng.Agents, Workspace: ws,
		Schedules: p.schedules, StartHook: p.reinject, OnDelete: p.forget, Log: log.With("op", "fleet")})
	if err != nil {
		return err
	}
	s.agents = p
	s.trinityAPI = trinity.New(p.fleet, s.cfg.MaxBodyBytes, log)
	s.trinityAPI.Schedules, s.trinityAPI.Credentials = p.schedules, p.creds
	return nil
}

// connectSSH gives the surface the SSH gateway's grants, when the server runs one.
func (s *Server) connectSSH() {
	if s.ssh == nil {
		return
	}
	s.trinityAPI.SSH, s.trinityAPI.SSHAddr = s.ssh.Keys, s.ssh.PublicAddr
	if _, port, err := net.SplitHostPort(s.ssh.PublicAddr); err == nil {
		s.trinityAPI.SSHPort, _ = strconv.Atoi(port)
	}
}

// runtimeTemplate is the template a runtime names: the templates file's of that name, else a
// built-in runtime's (package runtimes) when its image has been imported. claude-code and
// gemini-cli without their image are refused, saying how to get it; shell without its image
// runs on the base template (ErrNotFound lets the fleet fall back).
func (s *Server) runtimeTemplate(ctx context.Context, name string) (template.Template, error) {
	t, err := s.templates.Get(name)
	if err == nil || !errdefs.IsNotFound(err) {
		return t, err
	}
	r, ok := runtimes.Lookup(name)
	if !ok {
		return template.Template{}, err
	}
	if !s.hasImage(ctx, r.Image) {
		if r.CLI == "" {
			return template.Template{}, err
		}
		return template.Template{}, errdefs.FailedPrecondition("runtime %s needs the image %s, which this server does not have: "+
			"an admin builds it with scripts/build-runtime-image.sh %s OUT.tar and imports it with paddock image import (docs/trinity.md, Runtimes)",
			r.Name, r.Image, r.Script)
	}
	return template.Template{Name: r.Name, Image: r.Image, Description: r.Description, User: r.User, EnvVars: r.Env,
		StartCmd: strings.Join(r.StartCmd, " "), Resources: &template.Resources{CPU: r.CPU, Memory: r.Memory}}, nil
}

// hasImage reports whether the server holds the image ref, without pulling it.
func (s *Server) hasImage(ctx context.Context, ref string) bool {
	imgs, err := s.eng.Images(manager.AsSystem(ctx))
	if err != nil {
		return false
	}
	return slices.ContainsFunc(imgs, func(i sandbox.ImageInfo) bool { return i.Ref == ref })
}

// runSchedules makes the schedule runner one of the leader's duties: it runs while this
// replica leads, so each schedule fires once in the cluster, until the server closes.
func (s *Server) runSchedules(context.Context) {
	p := s.agents
	if p == nil {
		return
	}
	p.stop = s.eng.Leader.Do(func(ctx context.Context) {
		if err := p.schedules.Run(ctx, p.fire); err != nil && ctx.Err() == nil {
			p.log.Error("schedule runner stopped", "err", err)
		}
	})
}

// closeSchedules stops the schedule runner and waits for the fires under way to be recorded.
func (s *Server) closeSchedules() {
	if p := s.agents; p != nil && p.stop != nil {
		p.once.Do(p.stop)
	}
}

// gate is the schedules' autonomy gate: an agent's autonomy flag and execution timeout.
func (p *agentParts) gate(ctx context.Context, agentID string) (bool, time.Duration, error) {
	a, err := p.fleet.Lookup(ctx, agentID)
	if err != nil {
		return false, 0, err
	}
	return a.AutonomyEnabled, time.Duration(a.ExecutionTimeoutSeconds) * time.Second, nil
}

// fire runs one schedule in its agent's running sandbox: its command through /bin/sh -c, or
// its message through the runtime's prompt command (claude --print MESSAGE). The output
// is stdout then stderr; a non-zero exit is the fire's error.
func (p *agentParts) fire(ctx context.Context, agentID string, sc schedule.Schedule) (string, error) {
	a, err := p.fleet.Lookup(ctx, agentID)
	if err != nil {
		return "", err
	}
	sb := p.fleet.Sandbox(ctx, a)
	if sb == nil || sb.State != sandbox.StateRunning {
		return "", errdefs.FailedPrecondition("agent %s is not running", a.Name)
	}
	req := manager.ExecRequest{Shell: sc.Command, Cwd: p.fleet.WorkspaceDir()}
	if sc.Command == "" {
		if req.Command, err = promptCommand(a, sc.Message); err != nil {
			return "", err
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		req.Timeout = time.Until(dl)
	}
	res, err := p.m.Exec(manager.AsSystem(ctx), sb.ID, req)
	if err != nil {
		return "", err
	}
	out := string(res.Stdout) + string(res.Stderr)
	switch {
	case res.TimedOut:
		return out, context.DeadlineExceeded
	case res.ExitCode != 0:
		return out, fmt.Errorf("exit status %d", res.ExitCode)
	}
	return out, nil
}

// promptCommand is the argv that sends message to an agent's runtime: the built-in runtime's
// CLI and prompt arguments (with --model for a runtime_model), or sh -c for the shell runtime.
func promptCommand(a *fleet.Agent, message string) ([]string, error) {
	r, ok := runtimes.Lookup(a.Runtime)
	switch {
	case !ok:
		return nil, errdefs.FailedPrecondition("runtime %q has no prompt command: give the schedule a command", a.Runtime)
	case r.CLI == "":
		return []string{"/bin/sh", "-c", message}, nil
	}
	args := []string{r.CLI}
	if a.RuntimeModel != "" {
		args = append(args, "--model", a.RuntimeModel)
	}
	return append(append(args, r.PromptArgs...), message), nil
}

// reinject is the fleet's start hook: the agent's credentials are written again.
func (p *agentParts) reinject(ctx context.Context, a *fleet.Agent) (string, error) {
	return p.creds.Reinject(ctx, trinity.CredentialAgent(a))
}

// forget removes an agent's credentials and SSH grants when it is deleted.
func (p *agentParts) forget(ctx context.Context, agentID string) error {
	_, err := p.grants.DeleteSSHGrants(ctx, agentID)
	return errors.Join(p.creds.DeleteAgent(ctx, agentID), err)
}

// AgentID implements SSHAgents: the ID of the agent called name.
func (p *agentParts) AgentID(ctx context.Context, name string) (string, error) {
	a, err := p.fleet.Lookup(ctx, name)
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// Open implements sshgate.Opener: a process in the running sandbox of the agent called name.
// The gateway has checked the key's grant; the process runs as the sandbox's default user
// unless cmd names one.
func (p *agentParts) Open(ctx context.Context, name string, cmd manager.Command) (sshgate.Process, error) {
	a, err := p.fleet.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	sb := p.fleet.Sandbox(ctx, a)
	if sb == nil || sb.State != sandbox.StateRunning {
		return nil, errdefs.FailedPrecondition("agent %s is not running: start it first", a.Name)
	}
	if cmd.Cwd == "" {
		cmd.Cwd = p.fleet.WorkspaceDir()
	}
	proc, err := p.m.StartProcess(manager.AsSystem(ctx), sb.ID, cmd)
	if err != nil {
		return nil, err
	}
	return proc, nil
}
