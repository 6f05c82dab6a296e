// Package pginvalidate carries cache invalidations between Paddock replicas on one
// PostgreSQL database with LISTEN/NOTIFY: each replica listens on one connection of its own,
// and a change is announced with pg_notify right after it is committed.
package pginvalidate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock/paddock/internal/invalidate"
)

// Channel is the NOTIFY channel; payloads are "kind:id".
const Channel = "paddock_invalidate"

// Bus implements invalidate.Bus. Run listens; Publish works whether or not it does. Safe
// for concurrent use.
type Bus struct {
	url       string
	pool      *pgxpool.Pool // sends; two connections
	log       *slog.Logger
	retry     time.Duration
	subs      invalidate.Subscribers
	listening atomic.Bool
}

var _ invalidate.Bus = (*Bus)(nil)

// New returns a bus on the database at rawURL (the store's URL). retry is how long the
// listener waits before connecting again after losing its connection (0: 1 s).
func New(rawURL string, retry time.Duration, log *slog.Logger) (*Bus, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, errors.New("invalidate: the store URL does not parse")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.MaxConns, cfg.MinConns = 2, 0
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("invalidate: %w", err)
	}
	if retry <= 0 {
		retry = time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bus{url: rawURL, pool: pool, log: log, retry: retry}, nil
}

// Close releases the sending connections; stop Run first (cancel its ctx).
func (b *Bus) Close() { b.pool.Close() }

// Listening reports whether the listener is connected: while it is not, this replica's
// caches fall back on their TTLs.
func (b *Bus) Listening() bool { return b.listening.Load() }

// Publish implements invalidate.Bus: this replica's subscribers at once, the others' when
// the notification reaches them (milliseconds).
func (b *Bus) Publish(kind, id string) {
	b.subs.Deliver(kind, id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, kind+":"+id); err != nil {
		b.log.Warn("invalidate: notify other replicas; their caches expire on their own", "kind", kind, "id", id, "err", err)
	}
}

// Subscribe implements invalidate.Bus.
func (b *Bus) Subscribe(kind string, fn func(id string)) { b.subs.Add(kind, fn) }

// Run listens until ctx ends, connecting again after a lost connection. Each time it
// (re)connects, every subscriber gets invalidate.All: messages sent while it was away are
// lost.
func (b *Bus) Run(ctx context.Context) {
	for {
		err := b.listen(ctx)
		b.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("invalidate: lost the listener's connection; caches fall back on their TTLs", "err", err)
		t := time.NewTimer(b.retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (b *Bus) listen(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(b.url)
	if err != nil {
		return err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	b.listening.Store(true)
	b.subs.DeliverAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		kind, id, ok := strings.Cut(n.Payload, ":")
		if !ok {
			continue
		}
		b.subs.Deliver(kind, id)
	}
}
