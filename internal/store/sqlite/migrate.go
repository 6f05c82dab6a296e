package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// migrations is the schema's history: migrations[i] takes the schema from version i to
// version i+1. Each is applied once, in its own transaction. Append only: a migration that
// has shipped is never edited, since databases out there already ran it.
var migrations = []string{
	// 1: sandbox records. The record column is the whole sandbox.Sandbox as JSON (spec,
	// instance, token, reason...); the other columns copy the fields that queries filter,
	// order or look up by.
	`CREATE TABLE sandboxes (
		id          TEXT PRIMARY KEY,
		name        TEXT NOT NULL UNIQUE,
		owner       TEXT NOT NULL DEFAULT '',
		state       TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL,
		started_at  INTEGER,
		expires_at  INTEGER,
		record      TEXT NOT NULL
	);
	CREATE INDEX sandboxes_expires ON sandboxes(expires_at) WHERE expires_at IS NOT NULL;
	CREATE INDEX sandboxes_owner ON sandboxes(owner);`,

	// 2: the audit trail.
	`CREATE TABLE events (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		ts         INTEGER NOT NULL,
		type       TEXT NOT NULL,
		sandbox    TEXT NOT NULL DEFAULT '',
		actor      TEXT NOT NULL DEFAULT '',
		request_id TEXT NOT NULL DEFAULT '',
		details    TEXT NOT NULL DEFAULT 'null'
	);
	CREATE INDEX events_ts ON events(ts);
	CREATE INDEX events_sandbox ON events(sandbox, ts);`,

	// 3: the run history.
	`CREATE TABLE runs (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		sandbox     TEXT NOT NULL,
		owner       TEXT NOT NULL DEFAULT '',
		command     TEXT NOT NULL,
		exit_code   INTEGER NOT NULL,
		error       TEXT NOT NULL DEFAULT '',
		started_at  INTEGER NOT NULL,
		finished_at INTEGER NOT NULL
	);
	CREATE INDEX runs_owner ON runs(owner, started_at);`,

	// 4: look a sandbox up by its guest token (E2B requests that carry only the token).
	`ALTER TABLE sandboxes ADD COLUMN guest_token TEXT NOT NULL DEFAULT '';
	UPDATE sandboxes SET guest_token = COALESCE(json_extract(record, '$.guest_token'), '');
	CREATE INDEX sandboxes_guest_token ON sandboxes(guest_token) WHERE guest_token != '';`,

	// 5: accounts: users, their API keys (SHA-256 only) and named settings (the first
	// admin's ID); audit events name the acting user and the key or token they presented.
	`CREATE TABLE users (
		id            TEXT PRIMARY KEY,
		email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
		name          TEXT NOT NULL DEFAULT '',
		role          TEXT NOT NULL,
		disabled      INTEGER NOT NULL DEFAULT 0,
		password_hash TEXT NOT NULL DEFAULT '',
		created_at    INTEGER NOT NULL
	);
	CREATE TABLE api_keys (
		id           TEXT PRIMARY KEY,
		user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		name         TEXT NOT NULL DEFAULT '',
		hash         TEXT NOT NULL UNIQUE,
		created_at   INTEGER NOT NULL,
		last_used_at INTEGER,
		expires_at   INTEGER
	);
	CREATE INDEX api_keys_user ON api_keys(user_id, created_at);
	CREATE TABLE account_settings (
		name  TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	ALTER TABLE events ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN user_email TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';`,
	// 6: accounts phase 2: sandboxes shared with users, and per-user quota overrides.
	`CREATE TABLE sandbox_shares (
		sandbox_id TEXT NOT NULL,
		user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		role       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (sandbox_id, user_id)
	);
	CREATE INDEX sandbox_shares_user ON sandbox_shares(user_id, created_at);
	CREATE TABLE user_quotas (
		user_id            TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
		sandboxes          INTEGER NOT NULL DEFAULT 0,
		memory_mb          INTEGER NOT NULL DEFAULT 0,
		vcpus              INTEGER NOT NULL DEFAULT 0,
		creates_per_minute INTEGER NOT NULL DEFAULT 0,
		sessions           INTEGER NOT NULL DEFAULT 0
	);`,
	// 7: E2B lifecycle events and the webhooks that receive them (secrets kept as given:
	// each delivery is signed with the secret itself).
	`CREATE TABLE lifecycle_events (
		seq        INTEGER PRIMARY KEY AUTOINCREMENT,
		id         TEXT NOT NULL UNIQUE,
		type       TEXT NOT NULL,
		sandbox_id TEXT NOT NULL,
		owner      TEXT NOT NULL DEFAULT '',
		template   TEXT NOT NULL DEFAULT '',
		build      TEXT NOT NULL DEFAULT '',
		execution  TEXT NOT NULL DEFAULT '',
		data       TEXT NOT NULL DEFAULT 'null',
		ts         INTEGER NOT NULL
	);
	CREATE INDEX lifecycle_events_owner ON lifecycle_events(owner, seq);
	CREATE INDEX lifecycle_events_sandbox ON lifecycle_events(sandbox_id, seq);
	CREATE TABLE webhooks (
		id         TEXT PRIMARY KEY,
		owner      TEXT NOT NULL DEFAULT '',
		name       TEXT NOT NULL DEFAULT '',
		url        TEXT NOT NULL,
		enabled    INTEGER NOT NULL,
		events     TEXT NOT NULL,
		secret     TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX webhooks_owner ON webhooks(owner, created_at);`,
	// 8: Sandcaster's agent runs (with their bounded event logs) and sessions. The record
	// column is the agentrun.Run or agentrun.Session as JSON; the other columns are what
	// queries filter and order by.
	`CREATE TABLE agent_runs (
		id         TEXT PRIMARY KEY,
		owner      TEXT NOT NULL DEFAULT '',
		session_id TEXT NOT NULL DEFAULT '',
		sandbox    TEXT NOT NULL DEFAULT '',
		status     TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		record     TEXT NOT NULL,
		events     TEXT NOT NULL DEFAULT '[]'
	);
	CREATE INDEX agent_runs_owner ON agent_runs(owner, started_at);
	CREATE INDEX agent_runs_session ON agent_runs(session_id, started_at) WHERE session_id != '';
	CREATE INDEX agent_runs_running ON agent_runs(status) WHERE status = 'running';
	CREATE TABLE agent_sessions (
		id         TEXT PRIMARY KEY,
		owner      TEXT NOT NULL DEFAULT '',
		status     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		record     TEXT NOT NULL
	);
	CREATE INDEX agent_sessions_owner ON agent_sessions(owner, created_at);`,
	// 9: Trinity agents (fleet.Agent as JSON in record) and their saved runtime logs.
	`CREATE TABLE fleet_agents (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL UNIQUE,
		owner      TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		record     TEXT NOT NULL,
		log        BLOB NOT NULL DEFAULT x''
	);
	CREATE INDEX fleet_agents_created ON fleet_agents(created_at, id);`,
	// 10: Trinity agents' cron schedules and their executions. The record column is the
	// schedule.Schedule or schedule.Execution as JSON; last_run_at and next_run_at are kept
	// in their own columns (the record's copies are ignored) so that the runner writes them
	// without touching an edit made meanwhile.
	`CREATE TABLE agent_schedules (
		id          TEXT PRIMARY KEY,
		agent_id    TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		last_run_at INTEGER,
		next_run_at INTEGER,
		record      TEXT NOT NULL
	);
	CREATE INDEX agent_schedules_agent ON agent_schedules(agent_id, created_at);
	CREATE TABLE schedule_executions (
		id          TEXT PRIMARY KEY,
		schedule_id TEXT NOT NULL,
		agent_id    TEXT NOT NULL,
		started_at  INTEGER NOT NULL,
		record      TEXT NOT NULL
	);
	CREATE INDEX schedule_executions_agent ON schedule_executions(agent_id, started_at);
	CREATE INDEX schedule_executions_schedule ON schedule_executions(schedule_id, started_at);`,
	// 11: the credential files injected into each Trinity agent, sealed with the server's
	// credential key (nonce || AES-256-GCM ciphertext), so that a start injects them again.
	`CREATE TABLE agent_credentials (
		agent_id   TEXT NOT NULL,
		path       TEXT NOT NULL,
		sealed     BLOB NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (agent_id, path)
	);`,
	// 12: the SSH gateway's key grants (sshgate.Grant): one row per agent and key; times in
	// Unix microseconds.
	`CREATE TABLE ssh_grants (
		agent_id    TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		public_key  TEXT NOT NULL,
		expires_at  INTEGER NOT NULL,
		created_at  INTEGER NOT NULL,
		PRIMARY KEY (agent_id, fingerprint)
	);
	CREATE INDEX ssh_grants_expires ON ssh_grants(expires_at);`,
}

// migrate applies the migrations db has not had yet. Concurrent calls on one file (from
// several processes) are safe: each migration re-checks its version under the write lock.
func migrate(ctx context.Context, db *sql.DB) error {
	// In a write transaction taken at BEGIN: as a lone statement, CREATE TABLE reads the schema
	// and then upgrades to a write lock, and that upgrade fails at once with SQLITE_BUSY (no
	// busy_timeout wait) when another connection created the table in between.
	if err := inTx(ctx, db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`)
		return err
	}); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if current > len(migrations) {
		return errdefs.FailedPrecondition("database schema is at version %d, newer than this paddock knows (%d): run a newer paddock", current, len(migrations))
	}
	for i := current; i < len(migrations); i++ {
		if err := apply(ctx, db, i+1, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func apply(ctx context.Context, db *sql.DB, version int, stmts string) error {
	return inTx(ctx, db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil // another process applied it meanwhile
		}
		if _, err := tx.ExecContext(ctx, stmts); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, version, time.Now().Unix())
		return err
	})
}
