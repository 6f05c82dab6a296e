package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
)

// PoolConfig asks for Size warm sandboxes of an image and profile (with the profile's
// default limits).
type PoolConfig struct {
	Image   string `json:"image"`
	Profile string `json:"profile"`
	Size    int    `json:"size"`
	// Prewarm lists code-context languages whose interpreter each warm sandbox keeps
	// running, so that a new session's first cell does not pay interpreter start-up.
	Prewarm []string `json:"prewarm,omitempty"`
}

// DefaultPools are the warm pools a server keeps when configured with none: four sandboxes
// of the base image under the default profile.
func DefaultPools() []PoolConfig {
	return []PoolConfig{{Image: "base", Profile: "moderate", Size: 4}}
}

// PoolStats describes one warm pool.
type PoolStats struct {
	Image   string `json:"image"`
	Profile string `json:"profile"`
	Size    int    `json:"size"`
	Ready   int    `json:"ready"`
	Claims  uint64 `json:"claims"`
	Misses  uint64 `json:"misses"`
}

// pooled is a started, token-holding sandbox that nobody has claimed yet.
type pooled struct {
	inst  sandbox.InstanceSpec
	token string
}

// pool keeps up to size warm sandboxes for one key. A claimed sandbox is never returned.
type pool struct {
	cfg    PoolConfig
	key    string
	mu     sync.Mutex
	ready  []pooled
	making int // sandboxes being created right now
	wake   chan struct{}
	claims atomic.Uint64
	misses atomic.Uint64
}

// pools owns every pool and their filler goroutines (stopped by close).
type pools struct {
	m      *Manager
	byKey  map[string]*pool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newPools(m *Manager, cfgs []PoolConfig) (*pools, error) {
	ctx, cancel := context.WithCancel(context.Background())
	ps := &pools{m: m, byKey: map[string]*pool{}, ctx: ctx, cancel: cancel}
	for _, c := range cfgs {
		if c.Size < 0 || c.Size > 1000 {
			cancel()
			return nil, fmt.Errorf("pool %s/%s: size %d is out of range 0-1000", c.Image, c.Profile, c.Size)
		}
		if c.Size == 0 {
			continue
		}
		inst, err := m.prepare(ctx, sandbox.Spec{Image: c.Image, Profile: c.Profile})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("pool %s/%s: %w", c.Image, c.Profile, err)
		}
		key := poolKey(inst)
		if p, ok := ps.byKey[key]; ok {
			p.cfg.Size += c.Size
			continue
		}
		ps.byKey[key] = &pool{cfg: c, key: key, wake: make(chan struct{}, fillers)}
	}
	return ps, nil
}

// fillers is how many sandboxes one pool creates at once: enough to keep up with claims on
// a small machine without starving the requests themselves.
const fillers = 2

func (ps *pools) start() {
	for _, p := range ps.byKey {
		for i := 0; i < min(fillers, p.cfg.Size); i++ {
			ps.wg.Add(1)
			go ps.fill(p)
		}
	}
}

// claim takes a warm sandbox for key, if one is ready, and asks for a replacement.
func (ps *pools) claim(key string) (pooled, bool) {
	p, ok := ps.byKey[key]
	if !ok {
		return pooled{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < fillers; i++ {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if len(p.ready) == 0 {
		p.misses.Add(1)
		return pooled{}, false
	}
	s := p.ready[0]
	p.ready = p.ready[1:]
	p.claims.Add(1)
	return s, true
}

// fill keeps p topped up until the pools are closed, backing off after failures.
func (ps *pools) fill(p *pool) {
	defer ps.wg.Done()
	backoff := time.Second
	for {
		p.mu.Lock()
		need := len(p.ready)+p.making < p.cfg.Size
		if need {
			p.making++
		}
		p.mu.Unlock()
		if !need {
			select {
			case <-ps.ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		s, err := ps.make(p)
		p.mu.Lock()
		p.making--
		if err == nil {
			p.ready = append(p.ready, s)
		}
		p.mu.Unlock()
		if err != nil {
			ps.m.log.Warn("warm pool: create failed", "image", p.cfg.Image, "profile", p.cfg.Profile, "err", err, "retry_in", backoff)
			select {
			case <-ps.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

func (ps *pools) make(p *pool) (pooled, error) {
	inst, err := ps.m.prepare(ps.ctx, sandbox.Spec{Image: p.cfg.Image, Profile: p.cfg.Profile})
	if err != nil {
		return pooled{}, err
	}
	inst.Labels[LabelPool] = p.key[:16]
	token := newToken()
	if err := ps.m.coldStart(ps.ctx, inst, token); err != nil {
		return pooled{}, err
	}
	// Configure it as a plain claim will, so that what it prewarms stays valid after a claim.
	sb := &sandbox.Sandbox{ID: inst.ID, Spec: sandbox.Spec{Image: p.cfg.Image, Profile: p.cfg.Profile},
		GuestToken: token, Instance: inst}
	if err := ps.m.configureGuestWith(ps.ctx, sb, p.cfg.Prewarm); err != nil {
		ps.m.discard(ps.ctx, inst.ID)
		return pooled{}, err
	}
	return pooled{inst: inst, token: token}, nil
}

// close stops the fillers and deletes unclaimed sandboxes.
func (ps *pools) close(ctx context.Context) {
	ps.cancel()
	ps.wg.Wait()
	for _, p := range ps.byKey {
		p.mu.Lock()
		ready := p.ready
		p.ready = nil
		p.mu.Unlock()
		for _, s := range ready {
			ps.m.discard(ctx, s.inst.ID)
		}
	}
}

// PoolStats reports every pool.
func (m *Manager) PoolStats() []PoolStats {
	var out []PoolStats
	for _, p := range m.pools.byKey {
		p.mu.Lock()
		out = append(out, PoolStats{Image: p.cfg.Image, Profile: p.cfg.Profile, Size: p.cfg.Size,
			Ready: len(p.ready), Claims: p.claims.Load(), Misses: p.misses.Load()})
		p.mu.Unlock()
	}
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
