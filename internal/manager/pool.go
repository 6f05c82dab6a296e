package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock/paddock/internal/invalidate"
	"github.com/paddock/paddock/internal/sandbox"
)

// PoolConfig asks for Size warm sandboxes made like Spec{Image, Profile, limits, Network}.
// Pools whose sandboxes come out the same (image, limits, security, network) are merged.
type PoolConfig struct {
	// Template names the template the pool is for ("" for none).
	Template string              `json:"template,omitempty"`
	Image    string              `json:"image"`
	Profile  string              `json:"profile"`
	VCPUs    float64             `json:"vcpus,omitempty"`
	MemoryMB int64               `json:"memory_mb,omitempty"`
	Pids     int64               `json:"pids,omitempty"`
	DiskMB   int64               `json:"disk_mb,omitempty"` // the writable layer's size
	Network  sandbox.NetworkMode `json:"network,omitempty"`
	Size     int                 `json:"size"`
	// Prewarm lists code-context languages whose interpreter each warm sandbox keeps
	// running, so that a new session's first cell does not pay interpreter start-up.
	Prewarm []string `json:"prewarm,omitempty"`
	// Env and DefaultUser configure each warm sandbox's guest as a claim of Template will,
	// so that prewarmed interpreters stay valid after the claim.
	Env         map[string]string `json:"env,omitempty"`
	DefaultUser string            `json:"default_user,omitempty"`
	// Warmup runs to completion in each warm sandbox before it joins the pool.
	Warmup []string `json:"warmup,omitempty"`
}

// own reports whether the pool's sandboxes are configured for its template alone: only
// sandboxes of that template claim them (others would undo the configuration).
func (c PoolConfig) own() bool {
	return c.Template != "" && (len(c.Env) > 0 || c.DefaultUser != "" || len(c.Warmup) > 0)
}

func (c PoolConfig) spec() sandbox.Spec {
	return sandbox.Spec{Image: c.Image, Profile: c.Profile, VCPUs: c.VCPUs, MemoryMB: c.MemoryMB, Pids: c.Pids,
		DiskMB: c.DiskMB, Network: c.Network, Env: c.Env, DefaultUser: c.DefaultUser, Template: c.Template}
}

// DefaultPools are the warm pools a server keeps when configured with none: four sandboxes
// of the base image under the default profile.
func DefaultPools() []PoolConfig {
	return []PoolConfig{{Image: "base", Profile: "moderate", Size: 4}}
}

// PoolStats describes one warm pool.
type PoolStats struct {
	// Template lists the templates sharing the pool, comma-separated ("" for none).
	Template string `json:"template,omitempty"`
	Image    string `json:"image"`
	Profile  string `json:"profile"`
	Size     int    `json:"size"`
	Ready    int    `json:"ready"`
	Claims   uint64 `json:"claims"`
	Misses   uint64 `json:"misses"`
}

// pooled is a started, token-holding sandbox that nobody has claimed yet.
type pooled struct {
	inst  sandbox.InstanceSpec
	token string
}

// pool keeps up to cfg.Size warm sandboxes for one key. A claimed sandbox is never returned.
type pool struct {
	key    string
	ctx    context.Context    // ends when the pool is removed or the pools are closed
	cancel context.CancelFunc // called by stop
	wg     sync.WaitGroup     // the fillers; waited for by stop
	wake   chan struct{}
	claims atomic.Uint64
	misses atomic.Uint64

	mu     sync.Mutex
	cfg    PoolConfig // Size changes on resize
	ready  []pooled   // empty when the pool is shared: its units are in the WarmStore
	making int        // sandboxes being created right now

	// For a shared pool: its units' key in the WarmStore (the pool key and what the guests
	// were configured with), and when the leader may try again after a failed make.
	storeKey string
	retryAt  time.Time
	backoff  time.Duration
}

// pools owns every pool and their filler goroutines, and the goroutines that follow
// template start commands (all stopped by close).
type pools struct {
	m      *Manager
	ctx    context.Context // ends at close
	cancel context.CancelFunc
	bg     sync.WaitGroup // start-command followers
	apply  sync.Mutex     // serialises set
	// warm keeps the units when the pools are shared by replicas (Config.SharedDriver): the
	// leader fills them (fillShared), every replica claims from them. Nil: the pools are
	// this process's, filled by its own fillers, held in memory.
	warm WarmStore
	lead chan struct{} // wakes the leader's filler

	mu      sync.RWMutex
	byKey   map[string]*pool
	pending map[string]PoolConfig // resolved by newPools, started by start
	closed  bool
}

func newPools(m *Manager, cfgs []PoolConfig) (*pools, error) {
	ctx, cancel := context.WithCancel(context.Background())
	ps := &pools{m: m, byKey: map[string]*pool{}, ctx: ctx, cancel: cancel, lead: make(chan struct{}, 1)}
	if m.cfg.SharedDriver && m.cfg.Warm != nil {
		ps.warm = m.cfg.Warm
		m.bus.Subscribe(invalidate.Warm, func(string) { ps.pokeLeader() })
	}
	want, err := ps.resolve(ctx, cfgs)
	if err != nil {
		cancel()
		return nil, err
	}
	ps.pending = want
	return ps, nil
}

// fillers is how many sandboxes one pool creates at once: enough to keep up with claims on
// a small machine without starving the requests themselves.
const fillers = 2

func (ps *pools) start() {
	ps.apply.Lock()
	defer ps.apply.Unlock()
	ps.set(context.Background(), ps.pending)
	ps.pending = nil
}

// resolve turns configurations into pools by key, merging those whose sandboxes come out
// the same. A configuration that cannot be resolved is left out and reported.
func (ps *pools) resolve(ctx context.Context, cfgs []PoolConfig) (map[string]PoolConfig, error) {
	want := map[string]PoolConfig{}
	var errs []error
	for _, c := range cfgs {
		name := c.Template
		if name == "" {
			name = c.Image + "/" + c.Profile
		}
		if c.Size < 0 || c.Size > 1000 {
			errs = append(errs, fmt.Errorf("pool %s: size %d is out of range 0-1000", name, c.Size))
			continue
		}
		if c.Size == 0 {
			continue
		}
		inst, err := ps.m.prepare(ctx, c.spec())
		if err != nil {
			errs = append(errs, fmt.Errorf("pool %s: %w", name, err))
			continue
		}
		key := poolKey(inst)
		if c.own() {
			key += "/" + c.Template
		}
		if w, ok := want[key]; ok {
			w.Size += c.Size
			if c.Template != "" && !slices.Contains(strings.Split(w.Template, ","), c.Template) {
				w.Template = strings.Trim(w.Template+","+c.Template, ",")
			}
			for _, l := range c.Prewarm {
				if !slices.Contains(w.Prewarm, l) {
					w.Prewarm = append(w.Prewarm, l)
				}
			}
			c = w
		}
		want[key] = c
	}
	return want, errors.Join(errs...)
}

// set makes the pools those of want: new keys get a pool, removed ones are stopped and
// their warm sandboxes deleted, and kept ones are resized (deleting warm sandboxes beyond the
// new size). A pool whose guest configuration (prewarm, env, user, warmup) changed is
// replaced. The caller holds ps.apply.
func (ps *pools) set(ctx context.Context, want map[string]PoolConfig) {
	var stale []*pool
	var surplus []pooled
	ps.mu.Lock()
	if ps.closed {
		ps.mu.Unlock()
		return
	}
	for key, p := range ps.byKey {
		w, ok := want[key]
		p.mu.Lock()
		if !ok || !sameGuest(p.cfg, w) {
			p.mu.Unlock()
			delete(ps.byKey, key)
			stale = append(stale, p)
			continue
		}
		p.cfg.Size, p.cfg.Template = w.Size, w.Template
		if len(p.ready) > w.Size {
			surplus = append(surplus, p.ready[w.Size:]...)
			p.ready = p.ready[:w.Size:w.Size]
		}
		p.mu.Unlock()
		p.poke()
		delete(want, key)
	}
	for key, w := range want {
		p := &pool{cfg: w, key: key, wake: make(chan struct{}, fillers), storeKey: key + "/" + guestKey(w)}
		p.ctx, p.cancel = context.WithCancel(ps.ctx)
		ps.byKey[key] = p
		for i := 0; i < fillers && ps.warm == nil; i++ {
			p.wg.Add(1)
			go ps.fill(p)
		}
	}
	ps.mu.Unlock()
	ps.pokeLeader()
	for _, p := range stale {
		ps.stop(ctx, p)
		if ps.warm != nil {
			// The cluster's units of a pool this replica removed or replaced go (the leader
			// makes new ones if its configuration still has the pool).
			ps.removeShared(ctx, p.storeKey, -1)
		}
	}
	for _, s := range surplus {
		ps.m.discard(ctx, s.inst.ID)
	}
}

// sameGuest reports whether warm sandboxes made for a would serve b.
func sameGuest(a, b PoolConfig) bool { return guestKey(a) == guestKey(b) }

// guestKey sums up what a pool's guests are configured with (prewarm, env, user, warmup).
func guestKey(c PoolConfig) string {
	b, _ := json.Marshal([]any{c.Prewarm, c.Env, c.DefaultUser, c.Warmup})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// SetPools replaces the warm pools with cfgs while the manager runs: new pools start
// filling, removed ones are emptied, resized ones grow or shrink. Configurations that cannot
// be resolved (an image that cannot be pulled, a bad profile) are left out and reported in
// the error; the others are applied. Images of new pools are resolved (pulled) before
// SetPools returns.
func (m *Manager) SetPools(ctx context.Context, cfgs []PoolConfig) error {
	if err := RequireAdmin(ctx, "change warm pools"); err != nil {
		return err
	}
	m.pools.apply.Lock()
	defer m.pools.apply.Unlock()
	want, err := m.pools.resolve(ctx, cfgs)
	m.pools.set(ctx, want)
	return err
}

// poke asks p's fillers to look at it again.
func (p *pool) poke() {
	for i := 0; i < fillers; i++ {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// claim takes a warm sandbox from the first of keys that has one ready, and asks for a
// replacement. A miss counts against the first pool that exists.
func (ps *pools) claim(ctx context.Context, keys ...string) (pooled, bool) {
	if ps.warm != nil {
		return ps.claimShared(ctx, keys)
	}
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var first *pool
	for _, key := range keys {
		p, ok := ps.byKey[key]
		if !ok {
			continue
		}
		if first == nil {
			first = p
		}
		p.mu.Lock()
		if len(p.ready) > 0 {
			s := p.ready[0]
			p.ready = p.ready[1:]
			p.mu.Unlock()
			p.claims.Add(1)
			p.poke() // after the take: a filler woken before it would find the pool full
			return s, true
		}
		p.mu.Unlock()
		p.poke()
	}
	if first != nil {
		first.misses.Add(1)
	}
	return pooled{}, false
}

// fill keeps p topped up until the pool is stopped, backing off after failures.
func (ps *pools) fill(p *pool) {
	defer p.wg.Done()
	backoff := time.Second
	for {
		p.mu.Lock()
		need := len(p.ready)+p.making < p.cfg.Size
		if need {
			p.making++
		}
		cfg := p.cfg
		p.mu.Unlock()
		if !need {
			select {
			case <-p.ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		s, err := ps.make(p.ctx, p, cfg)
		p.mu.Lock()
		p.making--
		if err == nil {
			p.ready = append(p.ready, s)
		}
		p.mu.Unlock()
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			ps.m.log.Warn("warm pool: create failed", "template", cfg.Template, "image", cfg.Image,
				"profile", cfg.Profile, "err", err, "retry_in", backoff)
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// warmupTimeout bounds a pool's warmup command.
const warmupTimeout = 5 * time.Minute

func (ps *pools) make(ctx context.Context, p *pool, cfg PoolConfig) (pooled, error) {
	spec := cfg.spec()
	inst, err := ps.m.prepare(ctx, spec)
	if err != nil {
		return pooled{}, err
	}
	inst.Labels[LabelPool] = p.key[:16]
	token := newToken()
	if err := ps.m.coldStart(ctx, inst, token); err != nil {
		return pooled{}, err
	}
	// Configure it as a claim will, so that what it prewarms stays valid after a claim.
	sb := &sandbox.Sandbox{ID: inst.ID, Spec: spec, GuestToken: token, Instance: inst}
	if err := ps.m.configureGuestWith(ctx, sb, cfg.Prewarm); err != nil {
		ps.m.discard(ctx, inst.ID)
		return pooled{}, err
	}
	if len(cfg.Warmup) > 0 {
		if err := ps.m.warmup(ctx, sb, cfg.Warmup); err != nil {
			ps.m.discard(ctx, inst.ID)
			return pooled{}, err
		}
	}
	return pooled{inst: inst, token: token}, nil
}

// stop ends one pool: its fillers stop and its warm sandboxes are deleted.
func (ps *pools) stop(ctx context.Context, p *pool) {
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	ready := p.ready
	p.ready = nil
	p.mu.Unlock()
	for _, s := range ready {
		ps.m.discard(ctx, s.inst.ID)
	}
}

// close stops every pool, deletes unclaimed sandboxes and stops following start commands.
func (ps *pools) close(ctx context.Context) {
	ps.apply.Lock()
	defer ps.apply.Unlock()
	ps.mu.Lock()
	ps.closed = true
	all := make([]*pool, 0, len(ps.byKey))
	for key, p := range ps.byKey {
		all = append(all, p)
		delete(ps.byKey, key)
	}
	ps.mu.Unlock()
	ps.cancel()
	for _, p := range all {
		ps.stop(ctx, p)
	}
	ps.bg.Wait()
}

// PoolStats reports every pool, sorted by template, image and profile. Shared pools report
// the cluster's ready units; claims and misses are this replica's.
func (m *Manager) PoolStats() []PoolStats {
	shared := m.pools.sharedReady()
	m.pools.mu.RLock()
	defer m.pools.mu.RUnlock()
	out := make([]PoolStats, 0, len(m.pools.byKey))
	for _, p := range m.pools.byKey {
		p.mu.Lock()
		ready := len(p.ready)
		if m.pools.warm != nil {
			ready = shared[p.storeKey]
		}
		out = append(out, PoolStats{Template: p.cfg.Template, Image: p.cfg.Image, Profile: p.cfg.Profile,
			Size: p.cfg.Size, Ready: ready, Claims: p.claims.Load(), Misses: p.misses.Load()})
		p.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Template+"\x00"+a.Image+"\x00"+a.Profile < b.Template+"\x00"+b.Image+"\x00"+b.Profile
	})
	return out
}

// poolKey identifies what a sandbox is made of: image, limits, security and network.
func poolKey(inst sandbox.InstanceSpec) string {
	b, _ := json.Marshal(struct {
		Image     string
		Layers    []string
		Resources sandbox.Resources
		Security  sandbox.Security
		Network   sandbox.NetworkMode
	}{inst.Image.Ref, inst.Image.Layers, inst.Resources, inst.Security, inst.Network})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
