package account

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/errdefs"
)

// errBadCredential is the answer to a key or token the server does not know.
var errBadCredential = errdefs.New(errdefs.ErrUnauthenticated,
	"missing or invalid API key: send it as X-API-Key or Authorization: Bearer")

// Authenticate resolves a presented key or login token to an identity. A revoked or expired
// key, an expired token and a disabled user fail with ErrUnauthenticated and a message safe
// to show.
func (s *Service) Authenticate(ctx context.Context, presented string) (Identity, error) {
	presented = strings.TrimSpace(presented)
	switch {
	case presented == "":
		return Identity{}, errBadCredential
	case looksLikeJWT(presented):
		return s.authToken(ctx, presented)
	}
	return s.authKey(ctx, presented)
}

func (s *Service) authKey(ctx context.Context, presented string) (Identity, error) {
	hash := HashKey(presented)
	now := s.opts.Now()
	e, ok := s.cache.get("k:"+hash, now, s.opts.CacheTTL)
	if !ok {
		gen := s.cache.generation()
		k, err := s.st.GetKeyByHash(ctx, hash)
		if errdefs.IsNotFound(err) {
			return Identity{}, errBadCredential
		}
		if err != nil {
			return Identity{}, err
		}
		u, err := s.st.GetUser(ctx, k.UserID)
		if errdefs.IsNotFound(err) {
			return Identity{}, errBadCredential
		}
		if err != nil {
			return Identity{}, err
		}
		e = entry{key: k, user: u}
		s.cache.put("k:"+hash, e, now, gen)
	}
	switch {
	case e.key.Expired(now):
		return Identity{}, errdefs.New(errdefs.ErrUnauthenticated, "API key expired: create a new one")
	case e.user.Disabled:
		return Identity{}, errdefs.New(errdefs.ErrUnauthenticated, "account disabled: ask an admin")
	}
	s.touched(ctx, e.key.ID, now)
	return Identity{UserID: e.user.ID, Email: e.user.Email, Role: e.user.Role, KeyID: e.key.ID}, nil
}

func (s *Service) authToken(ctx context.Context, token string) (Identity, error) {
	if s.opts.Tokens == nil {
		return Identity{}, errBadCredential
	}
	userID, tokenID, err := s.opts.Tokens.Parse(token)
	if err != nil {
		return Identity{}, err
	}
	now := s.opts.Now()
	e, ok := s.cache.get("u:"+userID, now, s.opts.CacheTTL)
	if !ok {
		gen := s.cache.generation()
		u, err := s.st.GetUser(ctx, userID)
		if errdefs.IsNotFound(err) {
			return Identity{}, errdefs.New(errdefs.ErrUnauthenticated, "invalid login token")
		}
		if err != nil {
			return Identity{}, err
		}
		e = entry{user: u}
		s.cache.put("u:"+userID, e, now, gen)
	}
	if e.user.Disabled {
		return Identity{}, errdefs.New(errdefs.ErrUnauthenticated, "account disabled: ask an admin")
	}
	return Identity{UserID: e.user.ID, Email: e.user.Email, Role: e.user.Role, KeyID: "token-" + tokenID}, nil
}

// Login checks an email and password and returns a login token and its expiry. Unknown
// users, wrong passwords, users without a password and disabled users get the same answer
// in about the same time.
func (s *Service) Login(ctx context.Context, email, password string) (string, time.Time, error) {
	if s.opts.Tokens == nil {
		return "", time.Time{}, errdefs.Unavailable("logins are not configured on this server")
	}
	u, err := s.st.GetUserByEmail(ctx, strings.TrimSpace(email))
	if err != nil && !errdefs.IsNotFound(err) {
		return "", time.Time{}, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if !checkPassword(hash, password) || u.Disabled {
		s.record(ctx, audit.LoginFailed, map[string]any{"email": strings.TrimSpace(email)})
		return "", time.Time{}, errdefs.New(errdefs.ErrUnauthenticated, "incorrect email or password")
	}
	token, exp, err := s.opts.Tokens.Issue(u)
	if err != nil {
		return "", time.Time{}, err
	}
	ctx = audit.WithOrigin(ctx, withUser(audit.OriginFrom(ctx), u))
	s.record(ctx, audit.LoggedIn, map[string]any{"user_id": u.ID, "email": u.Email})
	return token, exp, nil
}

// withUser stamps an origin with the user a login is for.
func withUser(o audit.Origin, u *User) audit.Origin {
	o.UserID, o.UserEmail = u.ID, u.Email
	return o
}

// entry is a cached lookup: a key and its user, or a user alone.
type entry struct {
	key  *Key
	user *User
	at   time.Time
}

// cache keeps recent lookups. Every change through the Service drops it whole (changes are
// rare), and a lookup that raced with a drop is not kept.
type cache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]entry
}

// maxCached bounds the cache; past it, it starts over.
const maxCached = 10000

func newCache() cache { return cache{entries: map[string]entry{}} }

func (c *cache) get(k string, now time.Time, ttl time.Duration) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.at) >= ttl {
		return entry{}, false
	}
	return e, true
}

func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps e unless the cache was dropped since gen was read.
func (c *cache) put(k string, e entry, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= maxCached {
		clear(c.entries)
	}
	e.at = now
	c.entries[k] = e
}

func (c *cache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// toucher batches last-used times: they are written together, at most once per TouchEvery.
type toucher struct {
	mu      sync.Mutex
	pending map[string]time.Time
	last    time.Time // last write
}

func (t *toucher) pendingFor(id string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.pending[id]
	return v, ok
}

// touched notes that key id was used at now, and writes what is pending when due.
func (s *Service) touched(ctx context.Context, id string, now time.Time) {
	t := &s.touch
	t.mu.Lock()
	t.pending[id] = now
	if now.Sub(t.last) < s.opts.TouchEvery {
		t.mu.Unlock()
		return
	}
	t.last = now
	t.mu.Unlock()
	s.Flush(context.WithoutCancel(ctx))
}

// Flush writes the pending last-used times (the server calls it on its way out).
func (s *Service) Flush(ctx context.Context) {
	t := &s.touch
	t.mu.Lock()
	batch := t.pending
	t.pending = map[string]time.Time{}
	t.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := s.st.TouchKeys(ctx, batch); err != nil {
		s.opts.Log.Error("write key last-used times", "err", err, "keys", len(batch))
	}
}
