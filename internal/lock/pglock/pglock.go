// Package pglock is a lock.Locker shared by Paddock replicas on one PostgreSQL database:
// each hold is a session-level advisory lock on a connection of a small pool of its own,
// kept until unlock.
//
// Each class of keys (the part before the first ':', such as "sandbox" or "agent") has a
// pool of its own. Callers nest holds of different classes (an agent's lock, then its
// sandbox's); with one shared pool, as many outer holds as the pool has connections would
// each wait for a connection for the inner one, forever. With a pool per class an inner hold
// waits only for holders of its own class, which never wait for an outer one, so nesting
// that always goes the same way between classes cannot deadlock on connections.
package pglock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/lock"
)

// Options tune a Locker; zero fields take the defaults.
type Options struct {
	// Conns bounds each class's pool, and so how many keys of one class this replica holds
	// or waits for in the database at once (default 16); further callers wait for a
	// connection (bounded by ctx). Pools open their connections as needed.
	Conns int32
	// Name identifies the replica in pg_stat_activity ("paddock-lock <Name>").
	Name   string
	Logger *slog.Logger
}

// Locker implements lock.Locker on PostgreSQL advisory locks. A process mutex sits in front
// of the database, so one replica's goroutines queue for a key locally and it uses at most
// one connection per key. Safe for concurrent use.
type Locker struct {
	ns    string // the URL's search_path: clusters in different schemas of one database do not collide
	cfg   *pgxpool.Config
	local lock.Local
	log   *slog.Logger

	mu     sync.Mutex
	pools  map[string]*pgxpool.Pool // key class → its pool, made on first use
	closed bool
}

var _ lock.Locker = (*Locker)(nil)

// New returns a locker on the database at rawURL (the store's URL). It connects on first
// use; Close releases its connections.
func New(rawURL string, opts Options) (*Locker, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, errors.New("lock: the store URL does not parse")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.MaxConns = 16
	if opts.Conns > 0 {
		cfg.MaxConns = opts.Conns
	}
	cfg.MinConns = 0
	if opts.Name != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "paddock-lock " + opts.Name
	}
	// A replica whose machine is lost holds its locks until its sessions end: ask the
	// server to probe idle connections (ignored on unix sockets and loopback-free setups).
	cfg.ConnConfig.RuntimeParams["tcp_keepalives_idle"] = "10"
	cfg.ConnConfig.RuntimeParams["tcp_keepalives_interval"] = "5"
	cfg.ConnConfig.RuntimeParams["tcp_keepalives_count"] = "3"
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Locker{ns: cfg.ConnConfig.RuntimeParams["search_path"], cfg: cfg, log: opts.Logger,
		pools: map[string]*pgxpool.Pool{}}, nil
}

// Close closes the pools, waiting for held locks to be unlocked.
func (l *Locker) Close() {
	l.mu.Lock()
	l.closed = true
	pools := l.pools
	l.pools = map[string]*pgxpool.Pool{}
	l.mu.Unlock()
	for _, p := range pools {
		p.Close()
	}
}

// pool returns the pool of key's class, making it on first use.
func (l *Locker) pool(key string) (*pgxpool.Pool, error) {
	class, _, _ := strings.Cut(key, ":")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("the locker is closed")
	}
	if p, ok := l.pools[class]; ok {
		return p, nil
	}
	p, err := pgxpool.NewWithConfig(context.Background(), l.cfg.Copy())
	if err != nil {
		return nil, err
	}
	l.pools[class] = p
	return p, nil
}

// acquire takes a connection of key's class.
func (l *Locker) acquire(ctx context.Context, key string) (*pgxpool.Conn, error) {
	p, err := l.pool(key)
	if err != nil {
		return nil, err
	}
	return p.Acquire(ctx)
}

// Key is the advisory lock key of a string: its 64-bit FNV-1a hash. pg_locks shows it as
// classid (high 32 bits) and objid (low 32 bits). Two keys that collide only serialise
// each other needlessly.
func Key(key string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return int64(h.Sum64())
}

// Lock implements lock.Locker. If the hold's session ends while it is held (the database
// restarts, a network cut, pg_terminate_backend), PostgreSQL frees the lock at once and
// another replica may take it: the holder is not interrupted, and learns of it only at
// unlock, which logs "lock lost while held". A database that cannot be reached is
// errdefs.ErrUnavailable.
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	conn, err := l.acquire(ctx, key)
	if err != nil {
		unlockLocal()
		return nil, failed(ctx, key, err)
	}
	k := Key(l.ns + "\x00" + key)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, k); err != nil {
		// The session may hold the lock if it was granted as ctx ended: end the session,
		// which frees whatever it holds.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
		unlockLocal()
		return nil, failed(ctx, key, err)
	}
	var once sync.Once
	return func() { once.Do(func() { l.unlock(conn, key, k, unlockLocal) }) }, nil
}

// unlock frees k and returns its connection to the pool; a session that no longer holds k
// (it ended while held) is closed.
func (l *Locker) unlock(conn *pgxpool.Conn, key string, k int64, unlockLocal func()) {
	defer unlockLocal()
	uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var freed bool
	if err := conn.QueryRow(uctx, `SELECT pg_advisory_unlock($1)`, k).Scan(&freed); err != nil || !freed {
		l.log.Warn("lock lost while held: another replica may have run concurrently", "key", key, "err", err)
		_ = conn.Conn().Close(uctx)
	}
	conn.Release()
}

// TryLock implements lock.Locker with pg_try_advisory_lock: held by a goroutine of this
// replica or by another replica, the key is not ok.
func (l *Locker) TryLock(ctx context.Context, key string) (func(), bool, error) {
	unlockLocal, ok, _ := l.local.TryLock(ctx, key)
	if !ok {
		return nil, false, nil
	}
	conn, err := l.acquire(ctx, key)
	if err != nil {
		unlockLocal()
		return nil, false, failed(ctx, key, err)
	}
	k := Key(l.ns + "\x00" + key)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, k).Scan(&got); err != nil || !got {
		if err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
		unlockLocal()
		if err != nil {
			return nil, false, failed(ctx, key, err)
		}
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { l.unlock(conn, key, k, unlockLocal) }) }, true, nil
}

// failed classes an error of taking key: ctx's end as it is, anything else unavailable.
func failed(ctx context.Context, key string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("wait for the lock on %s: %w", key, ctx.Err())
	}
	return errdefs.Hide(errdefs.ErrUnavailable, "the database is unavailable", fmt.Errorf("lock %s: %w", key, err))
}
