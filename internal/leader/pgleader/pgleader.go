// Package pgleader elects a leader among Paddock replicas that share a PostgreSQL database,
// with a session-level advisory lock held on a connection of its own: the replica whose
// session holds the lock leads, and losing that connection loses the lock.
package pgleader

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paddock/paddock/internal/leader"
)

// DefaultKey is the advisory lock key of Paddock's leader (arbitrary: "leader" in ASCII).
const DefaultKey int64 = 0x6c6561646572

// Options tune an Elector; zero fields take the defaults.
type Options struct {
	// Key is the advisory lock key (default DefaultKey). Replicas of one cluster use the same.
	Key int64
	// Name identifies the replica in pg_stat_activity's application_name
	// ("paddock-leader <Name>"; default "<hostname> pid <PID>").
	Name string
	// Retry is how often a follower tries to take the lock (default 1 s): after the leader's
	// session ends, another replica leads within about this long.
	Retry time.Duration
	// Check is how often the leader pings its connection, and how long it waits for the
	// answer (default 1 s): a leader notices a lost connection within about twice this.
	Check time.Duration
	// Lease is the server's idle_session_timeout for the elector's session (default 5 s,
	// at least 3 × Check): if the leader goes silent (partitioned, frozen), the server ends
	// its session and so frees the lock after this long, by when the leader, unable to
	// ping, has already stepped down.
	Lease  time.Duration
	Logger *slog.Logger
}

// Elector implements leader.Elector on PostgreSQL. Safe for concurrent use; Run is called once.
type Elector struct {
	url       string
	opts      Options
	leading   atomic.Bool
	campaigns atomic.Int64
}

var _ leader.Elector = (*Elector)(nil)

// New returns an elector for the database at rawURL (the store's URL). It connects when
// Run is called.
func New(rawURL string, opts Options) *Elector {
	if opts.Key == 0 {
		opts.Key = DefaultKey
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	if opts.Check <= 0 {
		opts.Check = time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Second
	}
	opts.Lease = max(opts.Lease, 3*opts.Check)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{url: rawURL, opts: opts}
}

// IsLeader implements leader.Elector.
func (e *Elector) IsLeader() bool { return e.leading.Load() }

// Campaigns is how many times this elector has tried to take the lock (won or not).
func (e *Elector) Campaigns() int64 { return e.campaigns.Load() }

// Run implements leader.Elector. Connection failures are logged and retried; Run returns
// nil when ctx ends.
func (e *Elector) Run(ctx context.Context, onElected func(ctx context.Context)) error {
	log := e.opts.Logger
	for {
		err := e.term(ctx, onElected)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Warn("leader election: lost the database connection; campaigning again", "err", err)
		}
		if !sleep(ctx, e.opts.Retry) {
			return nil
		}
	}
}

// term connects, campaigns until it wins, and leads until the connection is lost or ctx
// ends. It returns once onElected has returned and the connection (and so the lock) is gone.
func (e *Elector) term(ctx context.Context, onElected func(ctx context.Context)) error {
	conn, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.Check)
		defer cancel()
		_ = conn.Close(cctx) // ending the session releases the lock
	}()
	for {
		won, err := e.try(ctx, conn)
		if err != nil {
			return err
		}
		if won {
			break
		}
		if !sleep(ctx, e.opts.Retry) {
			return nil
		}
	}
	e.opts.Logger.Info("leader election: this replica leads")
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	e.leading.Store(true)
	go func() {
		defer close(done)
		onElected(lctx)
	}()
	err = e.hold(lctx, conn)
	e.leading.Store(false)
	cancel()
	<-done
	if err != nil {
		e.opts.Logger.Warn("leader election: this replica no longer leads")
	}
	return err
}

// connect opens the elector's own session, named in pg_stat_activity, with the lease as
// its idle timeout.
func (e *Elector) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.url)
	if err != nil {
		return nil, fmt.Errorf("leader election: the store URL does not parse")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	name := e.opts.Name
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s pid %d", host, os.Getpid())
	}
	cfg.RuntimeParams["application_name"] = "paddock-leader " + name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("leader election: connect: %w", err)
	}
	// idle_session_timeout is in PostgreSQL 14 and later; older servers keep an orphaned
	// session (and the lock) until TCP notices the peer is gone.
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET idle_session_timeout = %d", e.opts.Lease.Milliseconds())); err != nil {
		e.opts.Logger.Warn("leader election: cannot set idle_session_timeout; a silent leader keeps the lock until TCP gives up", "err", err)
	}
	return conn, nil
}

func (e *Elector) try(ctx context.Context, conn *pgx.Conn) (bool, error) {
	e.campaigns.Add(1)
	var won bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, e.opts.Key).Scan(&won); err != nil {
		return false, fmt.Errorf("leader election: try the lock: %w", err)
	}
	return won, nil
}

// hold pings the connection every Check until a ping fails (leadership lost: the error) or
// ctx ends (nil).
func (e *Elector) hold(ctx context.Context, conn *pgx.Conn) error {
	t := time.NewTicker(e.opts.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, e.opts.Check)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("leader election: ping: %w", err)
		}
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
