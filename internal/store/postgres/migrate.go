package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paddock/paddock/internal/errdefs"
)

// migrations is this store's schema history (its own, not SQLite's): migrations[i] takes the
// schema from version i to version i+1. Append only: a migration that has shipped is never
// edited, since databases out there already ran it.
//
// JSON columns are json, not jsonb: json keeps the text as written (agent run events are
// handed back byte for byte) and accepts every string Go encodes, \u0000 included.
var migrations = []string{
	// 1: everything the SQLite store had at its version 8.
	`CREATE TABLE sandboxes (
		id          text PRIMARY KEY,
		name        text NOT NULL CONSTRAINT sandboxes_name_key UNIQUE,
		owner       text NOT NULL DEFAULT '',
		state       text NOT NULL,
		created_at  timestamptz NOT NULL,
		updated_at  timestamptz NOT NULL,
		started_at  timestamptz,
		expires_at  timestamptz,
		guest_token text NOT NULL DEFAULT '',
		record      json NOT NULL
	);
	CREATE INDEX sandboxes_expires ON sandboxes (expires_at) WHERE expires_at IS NOT NULL;
	CREATE INDEX sandboxes_owner ON sandboxes (owner);
	CREATE INDEX sandboxes_guest_token ON sandboxes (guest_token) WHERE guest_token <> '';

	CREATE TABLE events (
		id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		ts         timestamptz NOT NULL,
		type       text NOT NULL,
		sandbox    text NOT NULL DEFAULT '',
		actor      text NOT NULL DEFAULT '',
		request_id text NOT NULL DEFAULT '',
		user_id    text NOT NULL DEFAULT '',
		user_email text NOT NULL DEFAULT '',
		key_id     text NOT NULL DEFAULT '',
		details    json NOT NULL DEFAULT 'null'
	);
	CREATE INDEX events_ts ON events (ts);
	CREATE INDEX events_sandbox ON events (sandbox, ts);

	CREATE TABLE runs (
		id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		sandbox     text NOT NULL,
		owner       text NOT NULL DEFAULT '',
		command     json NOT NULL,
		exit_code   integer NOT NULL,
		error       text NOT NULL DEFAULT '',
		started_at  timestamptz NOT NULL,
		finished_at timestamptz NOT NULL
	);
	CREATE INDEX runs_owner ON runs (owner, started_at);

	CREATE TABLE users (
		id            text PRIMARY KEY,
		email         text NOT NULL,
		name          text NOT NULL DEFAULT '',
		role          text NOT NULL,
		disabled      boolean NOT NULL DEFAULT false,
		password_hash text NOT NULL DEFAULT '',
		created_at    timestamptz NOT NULL
	);
	CREATE UNIQUE INDEX users_email ON users (lower(email));
	CREATE TABLE api_keys (
		id           text PRIMARY KEY,
		user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		name         text NOT NULL DEFAULT '',
		hash         text NOT NULL UNIQUE,
		created_at   timestamptz NOT NULL,
		last_used_at timestamptz,
		expires_at   timestamptz
	);
	CREATE INDEX api_keys_user ON api_keys (user_id, created_at);
	CREATE TABLE account_settings (
		name  text PRIMARY KEY,
		value text NOT NULL
	);
	CREATE TABLE sandbox_shares (
		sandbox_id text NOT NULL,
		user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		role       text NOT NULL,
		created_at timestamptz NOT NULL,
		PRIMARY KEY (sandbox_id, user_id)
	);
	CREATE INDEX sandbox_shares_user ON sandbox_shares (user_id, created_at);
	CREATE TABLE user_quotas (
		user_id            text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
		sandboxes          integer NOT NULL DEFAULT 0,
		memory_mb          integer NOT NULL DEFAULT 0,
		vcpus              integer NOT NULL DEFAULT 0,
		creates_per_minute integer NOT NULL DEFAULT 0,
		sessions           integer NOT NULL DEFAULT 0
	);

	CREATE TABLE lifecycle_events (
		seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		id         text NOT NULL UNIQUE,
		type       text NOT NULL,
		sandbox_id text NOT NULL,
		owner      text NOT NULL DEFAULT '',
		template   text NOT NULL DEFAULT '',
		build      text NOT NULL DEFAULT '',
		execution  text NOT NULL DEFAULT '',
		data       json NOT NULL DEFAULT 'null',
		ts         timestamptz NOT NULL
	);
	CREATE INDEX lifecycle_events_owner ON lifecycle_events (owner, seq);
	CREATE INDEX lifecycle_events_sandbox ON lifecycle_events (sandbox_id, seq);
	CREATE TABLE webhooks (
		id         text PRIMARY KEY,
		owner      text NOT NULL DEFAULT '',
		name       text NOT NULL DEFAULT '',
		url        text NOT NULL,
		enabled    boolean NOT NULL,
		events     json NOT NULL,
		secret     text NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE INDEX webhooks_owner ON webhooks (owner, created_at);

	CREATE TABLE agent_runs (
		id         text PRIMARY KEY,
		owner      text NOT NULL DEFAULT '',
		session_id text NOT NULL DEFAULT '',
		sandbox    text NOT NULL DEFAULT '',
		status     text NOT NULL,
		started_at timestamptz NOT NULL,
		record     json NOT NULL,
		events     json NOT NULL DEFAULT '[]'
	);
	CREATE INDEX agent_runs_owner ON agent_runs (owner, started_at);
	CREATE INDEX agent_runs_session ON agent_runs (session_id, started_at) WHERE session_id <> '';
	CREATE INDEX agent_runs_running ON agent_runs (status) WHERE status = 'running';
	CREATE TABLE agent_sessions (
		id         text PRIMARY KEY,
		owner      text NOT NULL DEFAULT '',
		status     text NOT NULL,
		created_at timestamptz NOT NULL,
		record     json NOT NULL
	);
	CREATE INDEX agent_sessions_owner ON agent_sessions (owner, created_at);`,
	// 2: Trinity's stores (SQLite's versions 9 to 12): agents and their saved logs, cron
	// schedules and their executions, sealed credential files, SSH key grants. Schedules
	// keep last_run_at and next_run_at in their own columns (the record's copies are
	// ignored) so that the runner writes them without touching an edit made meanwhile.
	`CREATE TABLE fleet_agents (
		id         text PRIMARY KEY,
		name       text NOT NULL CONSTRAINT fleet_agents_name_key UNIQUE,
		owner      text NOT NULL DEFAULT '',
		created_at timestamptz NOT NULL,
		record     json NOT NULL,
		log        bytea NOT NULL DEFAULT ''
	);
	CREATE INDEX fleet_agents_created ON fleet_agents (created_at, id);

	CREATE TABLE agent_schedules (
		id          text PRIMARY KEY,
		agent_id    text NOT NULL,
		created_at  timestamptz NOT NULL,
		last_run_at timestamptz,
		next_run_at timestamptz,
		record      json NOT NULL
	);
	CREATE INDEX agent_schedules_agent ON agent_schedules (agent_id, created_at);
	CREATE TABLE schedule_executions (
		id          text PRIMARY KEY,
		schedule_id text NOT NULL,
		agent_id    text NOT NULL,
		started_at  timestamptz NOT NULL,
		record      json NOT NULL
	);
	CREATE INDEX schedule_executions_agent ON schedule_executions (agent_id, started_at);
	CREATE INDEX schedule_executions_schedule ON schedule_executions (schedule_id, started_at);

	CREATE TABLE agent_credentials (
		agent_id   text NOT NULL,
		path       text NOT NULL,
		sealed     bytea NOT NULL,
		updated_at timestamptz NOT NULL,
		PRIMARY KEY (agent_id, path)
	);

	CREATE TABLE ssh_grants (
		agent_id    text NOT NULL,
		fingerprint text NOT NULL,
		public_key  text NOT NULL,
		expires_at  timestamptz NOT NULL,
		created_at  timestamptz NOT NULL,
		PRIMARY KEY (agent_id, fingerprint)
	);
	CREATE INDEX ssh_grants_expires ON ssh_grants (expires_at);`,
	// 3: when each sandbox was last used, as seen by any replica (sandbox.ActivityStore):
	// the leader judges idle timeouts from it.
	`ALTER TABLE sandboxes ADD COLUMN used_at timestamptz;`,
	// 4: the quota ledger that replicas share (manager.QuotaLedger): one row per create or
	// start under way, kept after a made create until it is a minute old. A row never
	// settled (its replica died) stops counting at expires_at.
	`CREATE TABLE quota_reservations (
		id         text PRIMARY KEY,
		user_id    text NOT NULL,
		sandbox    text NOT NULL,
		memory_mb  bigint NOT NULL,
		vcpus      double precision NOT NULL,
		is_create  boolean NOT NULL,
		at         timestamptz NOT NULL,
		expires_at timestamptz NOT NULL,
		settled    boolean NOT NULL DEFAULT false
	);
	CREATE INDEX quota_reservations_user ON quota_reservations (user_id, at);
	CREATE INDEX quota_reservations_pending ON quota_reservations (user_id) WHERE NOT settled;`,
	// 5: the warm units of pools shared by replicas (manager.WarmStore).
	`CREATE TABLE warm_units (
		id          text PRIMARY KEY,
		pool        text NOT NULL,
		instance    json NOT NULL,
		guest_token text NOT NULL,
		made_at     timestamptz NOT NULL
	);
	CREATE INDEX warm_units_pool ON warm_units (pool, made_at, id);`,
}

// migrationLock is the key of the transaction-scoped advisory lock that serialises
// migrations: replicas starting at once queue on it, and each finds the versions the one
// before it applied. (The value is arbitrary; it spells "paddock" in ASCII.)
const migrationLock int64 = 0x706164646f636b

// migrate brings the schema up to date in one transaction under migrationLock, so a failed
// upgrade leaves the database as it was and concurrent callers apply each migration once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(migrations) {
			return errdefs.FailedPrecondition("database schema is at version %d, newer than this paddock knows (%d): run a newer paddock", current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		return nil
	})
}
