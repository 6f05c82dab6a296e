package manager

import (
	"context"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/invalidate"
)

// Pools shared by replicas (Config.SharedDriver with a Config.Warm store): the leader makes
// the warm units and records each in the WarmStore; any replica claims one there. A unit is
// in the store only once made and configured, and leaves it in the claim, so two replicas
// never get the same one, and a dead replica's units stay claimable.

// sharedPoll is how often the leader compares the shared pools with their sizes when
// nothing woke it (claims through other replicas wake it through the invalidation bus).
const sharedPoll = 2 * time.Second

// pokeLeader asks the leader's filler (if this replica leads) to look at the pools again.
func (ps *pools) pokeLeader() {
	select {
	case ps.lead <- struct{}{}:
	default:
	}
}

// claimShared takes a unit of the first of keys whose shared pool has one. Keys this
// replica has no pool for are not asked for (its configuration says which pools exist).
func (ps *pools) claimShared(ctx context.Context, keys []string) (pooled, bool) {
	ps.mu.RLock()
	var cands []*pool
	for _, key := range keys {
		if p, ok := ps.byKey[key]; ok {
			cands = append(cands, p)
		}
	}
	ps.mu.RUnlock()
	for _, p := range cands {
		u, err := ps.warm.ClaimWarm(ctx, p.storeKey)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			ps.m.log.Warn("warm pool: claim failed, creating a fresh sandbox", "err", err)
			break
		}
		p.claims.Add(1)
		ps.m.bus.Publish(invalidate.Warm, p.storeKey)
		return pooled{inst: u.Instance, token: u.GuestToken}, true
	}
	if len(cands) > 0 {
		cands[0].misses.Add(1)
		ps.m.bus.Publish(invalidate.Warm, cands[0].storeKey)
	}
	return pooled{}, false
}

// sharedReady counts the shared pools' units by store key (nil when the pools are not
// shared, or the store does not answer).
func (ps *pools) sharedReady() map[string]int {
	if ps.warm == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	units, err := ps.warm.ListWarm(ctx)
	if err != nil {
		ps.m.log.Warn("warm pool: list", "err", err)
		return nil
	}
	n := map[string]int{}
	for _, u := range units {
		n[u.Pool]++
	}
	return n
}

// fillShared is the leader's duty for shared pools: it keeps each pool's units in the store
// at its size until the term ends, removes units beyond it (a pool shrunk, or grown too far
// by the makes of a previous leader that finished after its term), and removes the units
// of pools this replica's configuration no longer has. It returns once its makes have.
func (ps *pools) fillShared(ctx context.Context) {
	var makes sync.WaitGroup
	defer makes.Wait()
	t := time.NewTicker(sharedPoll)
	defer t.Stop()
	for {
		ps.topUp(ctx, &makes)
		select {
		case <-ctx.Done():
			return
		case <-ps.lead:
		case <-t.C:
		}
	}
}

// topUp starts the makes each shared pool lacks and removes what is beyond the pools.
func (ps *pools) topUp(ctx context.Context, makes *sync.WaitGroup) {
	units, err := ps.warm.ListWarm(ctx)
	if err != nil {
		if ctx.Err() == nil {
			ps.m.log.Warn("warm pool: list", "err", err)
		}
		return
	}
	count := map[string]int{}
	for _, u := range units {
		count[u.Pool]++
	}
	excess := map[string]int{} // store key → units to remove
	ps.mu.RLock()
	if ps.closed {
		ps.mu.RUnlock()
		return
	}
	known := make(map[string]bool, len(ps.byKey))
	now := time.Now()
	for _, p := range ps.byKey {
		known[p.storeKey] = true
		n := count[p.storeKey]
		p.mu.Lock()
		if n > p.cfg.Size && p.making == 0 {
			excess[p.storeKey] = n - p.cfg.Size
		}
		for p.making < fillers && n+p.making < p.cfg.Size && !now.Before(p.retryAt) {
			p.making++
			makes.Add(1)
			go ps.makeShared(ctx, p, p.cfg, makes)
		}
		p.mu.Unlock()
	}
	ps.mu.RUnlock()
	for key, n := range count {
		if !known[key] {
			excess[key] = n
		}
	}
	for key, n := range excess {
		ps.m.log.Info("warm pool: removing units beyond the pool's size", "pool", key, "units", n)
		ps.removeShared(ctx, key, n)
	}
}

// removeShared claims up to n units of the shared pool key (all of them for n < 0) and
// deletes them.
func (ps *pools) removeShared(ctx context.Context, key string, n int) {
	for i := 0; n < 0 || i < n; i++ {
		u, err := ps.warm.ClaimWarm(ctx, key)
		if err != nil {
			return // none left, or the store does not answer: the leader's next round looks again
		}
		ps.m.discard(ctx, u.ID)
	}
}

// makeShared makes one unit of p and puts it in the store. Its context is the term's, and
// ends too when the pool is removed; a unit made after the term ended is still put (it is
// as good as any), and a later leader removes what is beyond the size.
func (ps *pools) makeShared(term context.Context, p *pool, cfg PoolConfig, makes *sync.WaitGroup) {
	defer makes.Done()
	ctx, cancel := context.WithCancel(term)
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	err := ps.putShared(ctx, p, cfg)
	p.mu.Lock()
	p.making--
	if err != nil {
		p.backoff = min(max(2*p.backoff, time.Second), 30*time.Second)
		p.retryAt = time.Now().Add(p.backoff)
	} else {
		p.backoff = 0
	}
	backoff := p.backoff
	p.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		ps.m.log.Warn("warm pool: create failed", "template", cfg.Template, "image", cfg.Image,
			"profile", cfg.Profile, "err", err, "retry_in", backoff)
	}
	ps.pokeLeader()
}

func (ps *pools) putShared(ctx context.Context, p *pool, cfg PoolConfig) error {
	s, err := ps.make(ctx, p, cfg)
	if err != nil {
		return err
	}
	u := &WarmUnit{ID: s.inst.ID, Pool: p.storeKey, Instance: s.inst, GuestToken: s.token, MadeAt: ps.m.cfg.Now().UTC()}
	if err := ps.warm.PutWarm(context.WithoutCancel(ctx), u); err != nil {
		ps.m.discard(ctx, s.inst.ID)
		return err
	}
	return nil
}
