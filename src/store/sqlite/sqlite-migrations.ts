import { backendMigrations, type MigrationSql } from '../migrations.ts';

/** The SQLite store's SQL for each migration of src/store/migrations.ts, by id. */
const SQL: MigrationSql = {
  'runs-events-signals': `
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  result TEXT,
  error TEXT,
  parent_run_id TEXT,
  idempotency_key TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  wake_at INTEGER,
  deadline_at INTEGER,
  lease_owner TEXT,
  lease_expires_at INTEGER,
  last_seq INTEGER NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL,
  wake_gen INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX runs_idempotency ON runs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_pending ON runs (priority DESC, created_at) WHERE status = 'pending';
CREATE INDEX runs_wake ON runs (wake_at) WHERE status = 'waiting';
CREATE INDEX runs_deadline ON runs (deadline_at) WHERE status IN ('waiting', 'running');
CREATE INDEX runs_lease ON runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_listing ON runs (tenant, created_at);
CREATE TABLE events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  on_behalf_of TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE signals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  signal_id TEXT NOT NULL UNIQUE,
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  payload TEXT,
  sent_by TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  consumed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signals_pending ON signals (run_id, id) WHERE consumed = 0;
`,
  'fair-queue': `
ALTER TABLE runs ADD COLUMN fair_key REAL NOT NULL DEFAULT 0;
DROP INDEX runs_pending;
CREATE INDEX runs_fair ON runs (priority DESC, fair_key, created_at) WHERE status = 'pending';
CREATE TABLE fair_queue (
  tenant TEXT PRIMARY KEY,
  last_key REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE fair_clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  virtual_time REAL NOT NULL
);
INSERT INTO fair_clock (id, virtual_time) VALUES (1, 0);
`,
  'vector-records': `
CREATE TABLE vector_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  tenant TEXT NOT NULL,
  partition TEXT NOT NULL,
  key TEXT NOT NULL,
  space TEXT NOT NULL,
  vector BLOB NOT NULL,
  text TEXT NOT NULL,
  data TEXT NOT NULL,
  source_run_id TEXT,
  source_seq INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE UNIQUE INDEX vector_records_key ON vector_records (collection, tenant, partition, key);
CREATE INDEX vector_records_scan ON vector_records (collection, tenant, partition, id);
CREATE INDEX vector_records_expiry ON vector_records (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX vector_records_source ON vector_records (source_run_id) WHERE source_run_id IS NOT NULL;
`,
  'signed-checkpoints': `
CREATE TABLE checkpoints (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  head_hash TEXT NOT NULL,
  signed_at TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (run_id, seq, key_id)
) WITHOUT ROWID;
`,
  'resource-pools': `
CREATE INDEX runs_pending_tenant ON runs (tenant) WHERE status = 'pending';
CREATE INDEX runs_finished ON runs (updated_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE TABLE pool_leases (
  lease_id TEXT PRIMARY KEY,
  pool TEXT NOT NULL,
  holder TEXT NOT NULL,
  tokens INTEGER NOT NULL,
  window_ms INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  released_at INTEGER,
  counted_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pool_leases_window ON pool_leases (pool, counted_until);
CREATE INDEX pool_leases_held ON pool_leases (pool, expires_at) WHERE released_at IS NULL;
CREATE TABLE pool_waiters (
  pool TEXT NOT NULL,
  holder TEXT NOT NULL,
  run_id TEXT,
  tenant TEXT NOT NULL,
  priority INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  reason TEXT NOT NULL,
  since INTEGER NOT NULL,
  retry_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (pool, holder)
) WITHOUT ROWID;
CREATE TABLE pool_state (
  pool TEXT PRIMARY KEY,
  paused_until INTEGER NOT NULL DEFAULT 0,
  granted INTEGER NOT NULL DEFAULT 0,
  total_wait_ms INTEGER NOT NULL DEFAULT 0,
  max_wait_ms INTEGER NOT NULL DEFAULT 0,
  average_hold_ms REAL NOT NULL DEFAULT 0,
  window_requests INTEGER NOT NULL DEFAULT 0,
  window_tokens INTEGER NOT NULL DEFAULT 0,
  limits TEXT
) WITHOUT ROWID;
`,
  'paused-runs': `
ALTER TABLE runs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
`,
  'approval-inbox': `
CREATE INDEX events_approval_requested ON events (run_id, seq) WHERE type = 'approval.requested';
CREATE INDEX events_approval_decided ON events (run_id, seq) WHERE type = 'approval.decided';
`,
  'budget-ledgers': `
CREATE TABLE budget_charges (
  ledger TEXT NOT NULL,
  key TEXT NOT NULL,
  tokens REAL NOT NULL DEFAULT 0,
  usd REAL NOT NULL DEFAULT 0,
  model_calls REAL NOT NULL DEFAULT 0,
  tool_calls REAL NOT NULL DEFAULT 0,
  settled INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (ledger, key)
) WITHOUT ROWID;
`,
  'checkpoint-status': `
ALTER TABLE checkpoints ADD COLUMN status TEXT;
`,
  'keyed-signals-and-published-values': `
ALTER TABLE signals ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX signals_idempotency ON signals (run_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_published ON events (run_id, seq) WHERE type = 'event.published';
`,
  'timed-out-runs-finish': `
DROP INDEX runs_finished;
CREATE INDEX runs_finished ON runs (updated_at) WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out');
`,
  'live-run-streams': `
CREATE TABLE run_stream_parts (
  run_id TEXT NOT NULL,
  id INTEGER NOT NULL,
  after_seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  op INTEGER,
  data TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE INDEX run_stream_parts_at ON run_stream_parts (at);
`,
  // PostgreSQL only: SQLite updates a row in place whatever its indexes name.
  'finished-at': '',
  workers: `
CREATE TABLE workers (
  worker_id   TEXT PRIMARY KEY,
  host        TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  workflows   TEXT NOT NULL,
  run_ids     TEXT NOT NULL,
  beat_at     INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
`,
  // Two costs of every step's commit. Keyed by (run_id, seq), the events table put each run's new
  // event in the middle of the tree: with many runs committing together every event dirtied a page
  // of its own. In rowid order new events go to the end, and only the small index entries scatter;
  // the unique index still fences two writers of one seq. Old journals are copied in (run_id, seq)
  // order, so each run's events stay together. And while an index named updated_at, which every
  // step sets, SQLite checked that index on each run update (about three times the update's
  // cost); finished runs are indexed by finished_at instead, set once when a run finishes.
  'lean-step-writes': `
CREATE TABLE events_by_rowid (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  on_behalf_of TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO events_by_rowid (run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
  SELECT run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash FROM events ORDER BY run_id, seq;
DROP TABLE events;
ALTER TABLE events_by_rowid RENAME TO events;
CREATE UNIQUE INDEX events_run_seq ON events (run_id, seq);
CREATE INDEX events_approval_requested ON events (run_id, seq) WHERE type = 'approval.requested';
CREATE INDEX events_approval_decided ON events (run_id, seq) WHERE type = 'approval.decided';
CREATE INDEX events_published ON events (run_id, seq) WHERE type = 'event.published';
ALTER TABLE runs ADD COLUMN finished_at INTEGER;
UPDATE runs SET finished_at = updated_at WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out');
DROP INDEX runs_finished;
CREATE INDEX runs_finished ON runs (finished_at) WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out');
`,
  // PostgreSQL only: its claim statement is what reads the claim-order index.
  'claim-order': '',
};

/** The SQLite store's schema steps, by the version each brings it to; each applied once, in order. */
export const sqliteMigrations = backendMigrations('sqlite', SQL);

export const SQLITE_SCHEMA_VERSION = sqliteMigrations[sqliteMigrations.length - 1]!.version;
