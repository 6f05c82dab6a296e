package manager

import (
	"context"
	"fmt"
	"strings"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// LabelPool marks units made for a warm pool; the value is the pool key.
const LabelPool = "paddock.pool"

// Create makes a running sandbox from spec, claiming a warm one when a pool matches. On any
// error nothing is left behind.
func (m *Manager) Create(ctx context.Context, spec sandbox.Spec, owner string, opts ...CreateOption) (*sandbox.Sandbox, error) {
	return m.create(ctx, spec, owner, true, opts)
}

// CreateDedicated is Create without the warm pools: the sandbox is always made from scratch.
func (m *Manager) CreateDedicated(ctx context.Context, spec sandbox.Spec, owner string, opts ...CreateOption) (*sandbox.Sandbox, error) {
	return m.create(ctx, spec, owner, false, opts)
}

func (m *Manager) create(ctx context.Context, spec sandbox.Spec, owner string, pooled bool, opts []CreateOption) (*sandbox.Sandbox, error) {
	owner = ownerOf(ctx, owner)
	var o createOptions
	for _, opt := range opts {
		opt(&o)
	}
	spec.StartCmd = o.startCmd
	inst, err := m.prepare(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := m.prepareMounts(ctx, spec, &inst); err != nil {
		return nil, err
	}
	if len(inst.Mounts) > 0 {
		pooled = false // a warm sandbox was made without them
	}
	if spec.Name == "" {
		spec.Name = "sb-" + inst.ID[1:9]
	}
	if err := validateName(spec.Name); err != nil {
		return nil, err
	}
	if _, err := m.store.GetSandbox(ctx, spec.Name); err == nil {
		return nil, errdefs.AlreadyExists("sandbox name %q is taken", spec.Name)
	} else if !errdefs.IsNotFound(err) {
		return nil, err
	}

	hold, err := m.reserve(ctx, spec.Name, inst.Resources, true)
	if err != nil {
		return nil, err
	}
	defer hold.release(ctx)

	var sb *sandbox.Sandbox
	if pooled {
		sb = m.claimWarm(ctx, inst, spec, owner)
	}
	if sb == nil {
		var err error
		if sb, err = m.startCold(ctx, inst, spec, owner); err != nil {
			return nil, err
		}
	}
	// Under its lock from the start, so that its created event comes before any other.
	unlock, err := m.lock(ctx, sb.ID)
	if err != nil {
		m.discard(ctx, sb.ID)
		return nil, err
	}
	defer unlock()
	if err := m.store.CreateSandbox(ctx, sb); err != nil {
		m.discard(ctx, sb.ID)
		return nil, err
	}
	hold.made(ctx)
	m.touch(ctx, sb.ID)
	m.emit(ctx, sb, lifecycle.Created, nil)
	m.log.Info("sandbox created", "sandbox", sb.ID, "name", sb.Name, "pooled", sb.ID != inst.ID)
	details := map[string]any{"id": sb.ID, "image": sb.Instance.Image.Ref,
		"profile": sb.Instance.Security.Profile, "backend": m.driver.Name(), "pooled": sb.ID != inst.ID}
	if spec.Template != "" {
		details["template"] = spec.Template
	}
	m.record(ctx, audit.SandboxCreated, sb.Name, details)
	m.record(ctx, audit.SandboxStarted, sb.Name, map[string]any{"id": sb.ID, "profile": sb.Instance.Security.Profile})
	m.runStartCommand(sb)
	return sb, nil
}

// claimWarm takes a pooled sandbox matching inst and configures it, or returns nil when none
// is ready. A pooled sandbox whose guest does not answer is discarded (the caller then
// creates one cold).
func (m *Manager) claimWarm(ctx context.Context, inst sandbox.InstanceSpec, spec sandbox.Spec, owner string) *sandbox.Sandbox {
	keys := []string{poolKey(inst)}
	if spec.Template != "" {
		// A pool configured for this template alone comes first.
		keys = []string{keys[0] + "/" + spec.Template, keys[0]}
	}
	pooled, ok := m.pools.claim(ctx, keys...)
	if !ok {
		return nil
	}
	sb := m.newRecord(pooled.inst, spec, owner, pooled.token)
	if err := m.applyClaimedEgress(ctx, sb); err != nil {
		m.log.Warn("warm sandbox's network not configurable, creating a fresh one", "sandbox", sb.ID, "err", err)
		m.discard(ctx, sb.ID)
		return nil
	}
	if err := m.configureGuest(ctx, sb); err != nil {
		m.log.Warn("warm sandbox unusable, creating a fresh one", "sandbox", sb.ID, "err", err)
		m.discard(ctx, sb.ID)
		return nil
	}
	return sb
}

// startCold creates a sandbox from scratch.
func (m *Manager) startCold(ctx context.Context, inst sandbox.InstanceSpec, spec sandbox.Spec, owner string) (*sandbox.Sandbox, error) {
	sb := m.newRecord(inst, spec, owner, newToken())
	if err := m.coldStart(ctx, inst, sb.GuestToken); err != nil {
		return nil, err
	}
	if err := m.configureGuest(ctx, sb); err != nil {
		m.discard(ctx, sb.ID)
		return nil, fmt.Errorf("configure guest: %w", err)
	}
	return sb, nil
}

func (m *Manager) newRecord(inst sandbox.InstanceSpec, spec sandbox.Spec, owner, token string) *sandbox.Sandbox {
	now := m.cfg.Now().UTC()
	sb := &sandbox.Sandbox{
		ID: inst.ID, Name: spec.Name, Spec: spec, Owner: owner, State: sandbox.StateRunning,
		CreatedAt: now, UpdatedAt: now, StartedAt: &now, GuestToken: token, Instance: inst,
		TrafficToken: newToken(), // fresh per sandbox, pooled ones included
		Node:         m.cfg.Node,
	}
	if spec.TTL > 0 {
		exp := now.Add(spec.TTL)
		sb.ExpiresAt = &exp
	}
	return sb
}

// prepare validates spec and resolves it into a driver-level InstanceSpec with a fresh ID.
func (m *Manager) prepare(ctx context.Context, spec sandbox.Spec) (sandbox.InstanceSpec, error) {
	if spec.TTL < 0 {
		return sandbox.InstanceSpec{}, errdefs.InvalidArgument("ttl must not be negative")
	}
	if err := ValidateEnv(spec.Env); err != nil {
		return sandbox.InstanceSpec{}, err
	}
	switch spec.OnExpire {
	case "", sandbox.ExpireDelete, sandbox.ExpireStop, sandbox.ExpirePause:
	default:
		return sandbox.InstanceSpec{}, errdefs.InvalidArgument("on_expire %q: use delete, stop or pause", spec.OnExpire)
	}
	if err := validateAutoPause(spec); err != nil {
		return sandbox.InstanceSpec{}, err
	}
	if err := validatePorts(spec); err != nil {
		return sandbox.InstanceSpec{}, err
	}
	sec, res, network, err := profile.Resolve(spec)
	if err != nil {
		return sandbox.InstanceSpec{}, err
	}
	if res, err = m.diskLimit(spec, sec, res); err != nil {
		return sandbox.InstanceSpec{}, err
	}
	if err := m.checkEgress(spec, network); err != nil {
		return sandbox.InstanceSpec{}, err
	}
	img, err := m.images.Resolve(ctx, spec.Image)
	if err != nil {
		return sandbox.InstanceSpec{}, err
	}
	id := newID()
	return sandbox.InstanceSpec{
		ID: id, Hostname: "sandbox", Image: *img, // what the base image's /etc/hosts resolves
		Resources: res, Security: sec, Network: network, Egress: spec.Egress,
		Labels: map[string]string{sandbox.LabelID: id}, Template: spec.Template,
	}, nil
}

// coldStart creates, starts and waits for a unit's guest, then hands it its token. On
// failure the unit is deleted.
func (m *Manager) coldStart(ctx context.Context, inst sandbox.InstanceSpec, token string) (err error) {
	if err := m.driver.Create(ctx, inst); err != nil {
		return fmt.Errorf("create %s: %w", inst.ID, err)
	}
	defer func() {
		if err != nil {
			m.discard(ctx, inst.ID)
		}
	}()
	if err := m.driver.Start(ctx, inst.ID); err != nil {
		return fmt.Errorf("start %s: %w", inst.ID, err)
	}
	if err := m.waitGuest(ctx, inst.ID, token, ""); err != nil {
		return err
	}
	m.watchExit(inst.ID)
	return nil
}

// waitGuest waits until the guest answers and, when it has no token yet, gives it one.
// current is the token the guest already holds ("" for a fresh guest).
func (m *Manager) waitGuest(ctx context.Context, id, token, current string) error {
	rctx, cancel := context.WithTimeout(ctx, m.cfg.ReadyTimeout)
	defer cancel()
	c := m.client(&sandbox.Sandbox{ID: id, GuestToken: token})
	if err := c.WaitReady(rctx); err != nil {
		return errdefs.Hide(errdefs.ErrUnavailable, fmt.Sprintf("sandbox %s did not become ready", id), err)
	}
	if current == token {
		return nil
	}
	// A fresh guest accepts its first /init without a token; afterwards it requires it.
	fresh := m.clientWithToken(id, current)
	defer fresh.Close()
	tok := token
	if err := fresh.Init(rctx, guestproto.InitRequest{AccessToken: &tok}); err != nil {
		return fmt.Errorf("init guest of %s: %w", id, err)
	}
	return nil
}

// configureGuest pushes the sandbox's environment, default user and workdir to its guest.
func (m *Manager) configureGuest(ctx context.Context, sb *sandbox.Sandbox) error {
	return m.configureGuestWith(ctx, sb, nil)
}

// configureGuestWith is configureGuest that also asks the guest to prewarm interpreters.
func (m *Manager) configureGuestWith(ctx context.Context, sb *sandbox.Sandbox, prewarm []string) error {
	p, err := profile.Get(sb.Spec.Profile)
	if err != nil {
		return err
	}
	env := map[string]string{}
	for _, kv := range sb.Instance.Image.Config.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	for k, v := range sb.Spec.Env {
		env[k] = v
	}
	user := sb.Spec.DefaultUser
	if user == "" {
		user = sb.Spec.User
	}
	if user == "" {
		user = sb.Instance.Image.Config.User
	}
	if user == "" {
		user = p.User
	}
	workdir := sb.Spec.Workdir
	if workdir == "" {
		workdir = sb.Instance.Image.Config.WorkingDir
	}
	return m.client(sb).Init(ctx, guestproto.InitRequest{EnvVars: env, DefaultUser: user, DefaultWorkdir: workdir, Prewarm: prewarm})
}

// discard deletes a unit that never became a user-visible sandbox.
func (m *Manager) discard(ctx context.Context, id string) {
	cctx, cancel := cleanupCtx(ctx)
	defer cancel()
	m.dropClient(id)
	if err := m.driver.Delete(cctx, id); err != nil {
		m.log.Error("discard sandbox", "sandbox", id, "err", err)
	}
}
