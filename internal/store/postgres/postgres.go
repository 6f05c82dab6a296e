// Package postgres is the shared store for several Paddock replicas: sandbox records, the
// audit trail, run history, accounts, lifecycle events, agent runs and Trinity's agents,
// schedules, credentials and SSH grants in one PostgreSQL database (github.com/jackc/pgx/v5), with versioned migrations that replicas starting at
// once apply exactly once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock/paddock/internal/errdefs"
)

// connectTimeout bounds each connection attempt when the URL sets no connect_timeout, so an
// unreachable server fails start-up instead of hanging it.
const connectTimeout = 10 * time.Second

// Store implements sandbox.Store, sandbox.RunStore, audit.Store, account.Store,
// lifecycle.Store, agentrun.Store, fleet.Store, schedule.Store, credential.Store and
// sshgate.Store on one connection pool. Safe for concurrent use; any
// number of Stores, in one process or in several replicas, may share a database.
type Store struct {
	pool *pgxpool.Pool
}

// IsURL reports whether s names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns rawURL with its password masked, for messages and logs. A URL that does not
// parse is replaced whole: its password cannot be found reliably.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open connects to the database at rawURL (postgres://user:password@host:port/db?...; pgx
// settings such as sslmode, search_path and pool_max_conns apply) and brings its schema up
// to date. No error it returns carries the password.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	where := Redact(rawURL)
	if _, err := url.Parse(rawURL); err != nil || !IsURL(rawURL) {
		// Parse errors quote the URL, password included.
		return nil, errdefs.InvalidArgument("store %s: want postgres://user:password@host:port/database", where)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, errdefs.InvalidArgument("store %s: %s", where, scrub(err, rawURL))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	password := cfg.ConnConfig.Password
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, errdefs.InvalidArgument("store %s: %s", where, scrub(err, password))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, errdefs.Unavailable("cannot connect to postgres store %s: %s", where, scrub(err, password))
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		if errors.Is(err, errdefs.ErrFailedPrecondition) {
			return nil, fmt.Errorf("open store %s: %w", where, err)
		}
		return nil, fmt.Errorf("open store %s: %s", where, scrub(err, password))
	}
	return &Store{pool: pool}, nil
}

// scrub is err's message with every occurrence of secret masked: a server or driver
// message could quote the connection settings.
func scrub(err error, secret string) string {
	msg := err.Error()
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
	}
	return msg
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// SQLSTATE codes translated into error classes.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// violation returns the constraint err violates when its SQLSTATE is code, else "".
func violation(err error, code string) (constraint string, ok bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == code {
		return pe.ConstraintName, true
	}
	return "", false
}

func isUniqueViolation(err error) bool {
	_, ok := violation(err, uniqueViolation)
	return ok
}

func isForeignKeyViolation(err error) bool {
	_, ok := violation(err, foreignKeyViolation)
	return ok
}

// classify marks err unavailable (503 at the API: try again later) when the database could
// not be reached or dropped the connection, so that an outage is not reported as an internal
// error; other errors are returned as they are.
func classify(err error) error {
	if err == nil || !lostDatabase(err) {
		return err
	}
	return errdefs.Hide(errdefs.ErrUnavailable, "the database is unavailable", err)
}

func lostDatabase(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up (context.DeadlineExceeded is a net.Error too)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01-03: the server is shutting down or
		// starting; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// inTx runs fn in a transaction and commits it if fn succeeds.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// Time columns are timestamptz: microseconds, the precision every store keeps. Times come
// back in UTC, as the other stores return them.
func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}
