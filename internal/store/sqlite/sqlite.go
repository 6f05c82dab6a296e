// Package sqlite is the default sandbox.Store: one SQLite file (pure Go, modernc.org/sqlite)
// in WAL mode with versioned migrations. It also keeps the audit trail and the run history.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	msqlite "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout is how long a connection waits for another's write lock.
const busyTimeout = 10 * time.Second

// Store implements sandbox.Store, audit.Store and sandbox.RunStore. Safe for concurrent use;
// several Stores, in one process or several, may share a file.
type Store struct {
	db *sql.DB
}

// Open opens the database at path, creating it (mode 0600: records hold guest tokens) if
// needed, and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// SQLite gives the -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	if err := migrateWhenFree(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	return &Store{db: db}, nil
}

// dsn is the connection string of every connection of the pool:
//   - busy_timeout: a writer waits up to 10s for another (in this process or another one)
//     instead of failing with SQLITE_BUSY.
//   - journal_mode WAL: readers never block the writer, and a commit is one append.
//   - synchronous NORMAL: in WAL mode the WAL is fsynced at checkpoints, not at each commit.
//     A committed transaction is in the OS page cache when the call returns, so a crash or
//     kill -9 of the process loses nothing; a power loss or kernel crash may roll back the
//     last commits (never corrupting the file). Sandbox records are reconciled against the
//     driver at start-up, which bounds what that can cost.
//   - foreign_keys: off by default in SQLite, and later tables may reference sandboxes.
//   - _txlock immediate: transactions take the write lock at BEGIN, so that two writers that
//     both read first cannot deadlock (which SQLite reports as SQLITE_BUSY at once, without
//     waiting for busy_timeout).
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	// The path is escaped: '?', '#' and '%' are URI syntax.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// migrateWhenFree runs migrate, trying again while the file answers SQLITE_BUSY. SQLite
// returns SQLITE_BUSY without waiting for busy_timeout where waiting could deadlock: a
// connection opening in the instant another handle's last connection closes (checkpointing
// and removing the WAL) meets it about once in 200 concurrent opens. Each try is cheap and
// idempotent, and the tries stop after busyTimeout, like any other wait on the lock.
func migrateWhenFree(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := migrate(ctx, db)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Close closes the database. The Store cannot be used afterwards.
func (s *Store) Close() error { return s.db.Close() }

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// inTx runs fn in a transaction (BEGIN IMMEDIATE, see dsn) and commits it if fn succeeds.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
