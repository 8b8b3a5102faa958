import { backendMigrations, type Migration, type MigrationSql } from '../migrations.ts';

/**
 * The PostgreSQL store's SQL for each migration of src/store/migrations.ts, by id. Its steps are
 * applied in order, once, in one transaction under an advisory lock (so many processes may open a
 * fresh database at once).
 *
 * Every statement names the schema through `{schema}` (a quoted identifier, `"baton"` by default),
 * so Baton's tables never mix with an application's own in `public`.
 *
 * JSON is kept as TEXT, as written: `jsonb` would refuse `\u0000` in strings and reorder keys.
 * Times are epoch milliseconds (BIGINT), as the Store spec passes them.
 */
const SQL: MigrationSql = {
  'runs-events-signals': `
CREATE TABLE {schema}.runs (
  run_id TEXT COLLATE "C" PRIMARY KEY,
  workflow TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  result TEXT,
  error TEXT,
  parent_run_id TEXT COLLATE "C",
  idempotency_key TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  wake_at BIGINT,
  deadline_at BIGINT,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  last_seq INTEGER NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL,
  wake_gen INTEGER NOT NULL DEFAULT 0,
  cancel_requested BOOLEAN NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX runs_idempotency ON {schema}.runs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_pending ON {schema}.runs (priority DESC, created_at) WHERE status = 'pending';
CREATE INDEX runs_wake ON {schema}.runs (wake_at) WHERE status = 'waiting';
CREATE INDEX runs_deadline ON {schema}.runs (deadline_at) WHERE status IN ('waiting', 'running');
CREATE INDEX runs_lease ON {schema}.runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX runs_parent ON {schema}.runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_listing ON {schema}.runs (tenant, created_at);
CREATE INDEX runs_created ON {schema}.runs (created_at);
CREATE TABLE {schema}.events (
  run_id TEXT COLLATE "C" NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  on_behalf_of TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE {schema}.signals (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  signal_id TEXT NOT NULL UNIQUE,
  run_id TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  payload TEXT,
  sent_by TEXT NOT NULL,
  sent_at BIGINT NOT NULL,
  consumed BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX signals_pending ON {schema}.signals (run_id, id) WHERE NOT consumed;
`,
  'fair-queue': `
ALTER TABLE {schema}.runs ADD COLUMN fair_key DOUBLE PRECISION NOT NULL DEFAULT 0;
DROP INDEX {schema}.runs_pending;
CREATE INDEX runs_fair ON {schema}.runs (priority DESC, fair_key, created_at) WHERE status = 'pending';
CREATE TABLE {schema}.fair_queue (
  tenant TEXT PRIMARY KEY,
  last_key DOUBLE PRECISION NOT NULL
);
CREATE TABLE {schema}.fair_clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  virtual_time DOUBLE PRECISION NOT NULL
);
INSERT INTO {schema}.fair_clock (id, virtual_time) VALUES (1, 0);
`,
  'vector-records': `
CREATE TABLE {schema}.vector_records (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  collection TEXT NOT NULL,
  tenant TEXT NOT NULL,
  partition TEXT NOT NULL,
  key TEXT NOT NULL,
  space TEXT NOT NULL,
  vector BYTEA NOT NULL,
  text TEXT NOT NULL,
  data TEXT NOT NULL,
  source_run_id TEXT COLLATE "C",
  source_seq INTEGER,
  created_at BIGINT NOT NULL,
  expires_at BIGINT
);
CREATE UNIQUE INDEX vector_records_key ON {schema}.vector_records (collection, tenant, partition, key);
CREATE INDEX vector_records_scan ON {schema}.vector_records (collection, tenant, partition, id);
CREATE INDEX vector_records_expiry ON {schema}.vector_records (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX vector_records_source ON {schema}.vector_records (source_run_id) WHERE source_run_id IS NOT NULL;
`,
  'signed-checkpoints': `
CREATE TABLE {schema}.checkpoints (
  run_id TEXT COLLATE "C" NOT NULL,
  seq INTEGER NOT NULL,
  key_id TEXT COLLATE "C" NOT NULL,
  head_hash TEXT NOT NULL,
  signed_at TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (run_id, seq, key_id)
);
`,
  'resource-pools': `
CREATE INDEX runs_pending_tenant ON {schema}.runs (tenant) WHERE status = 'pending';
CREATE INDEX runs_finished ON {schema}.runs (updated_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE TABLE {schema}.pool_state (
  pool TEXT PRIMARY KEY,
  paused_until BIGINT NOT NULL DEFAULT 0,
  granted BIGINT NOT NULL DEFAULT 0,
  total_wait_ms BIGINT NOT NULL DEFAULT 0,
  max_wait_ms BIGINT NOT NULL DEFAULT 0,
  average_hold_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
  window_requests BIGINT NOT NULL DEFAULT 0,
  window_tokens BIGINT NOT NULL DEFAULT 0,
  limits TEXT
);
CREATE TABLE {schema}.pool_leases (
  lease_id TEXT PRIMARY KEY,
  pool TEXT NOT NULL,
  holder TEXT NOT NULL,
  tokens BIGINT NOT NULL,
  window_ms BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  released_at BIGINT,
  counted_until BIGINT NOT NULL
);
CREATE INDEX pool_leases_window ON {schema}.pool_leases (pool, counted_until);
CREATE INDEX pool_leases_held ON {schema}.pool_leases (pool, expires_at) WHERE released_at IS NULL;
CREATE TABLE {schema}.pool_waiters (
  pool TEXT NOT NULL,
  holder TEXT NOT NULL,
  run_id TEXT COLLATE "C",
  tenant TEXT NOT NULL,
  priority INTEGER NOT NULL,
  tokens BIGINT NOT NULL,
  reason TEXT NOT NULL,
  since BIGINT NOT NULL,
  retry_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (pool, holder)
);
`,
  'paused-runs': `
ALTER TABLE {schema}.runs ADD COLUMN paused BOOLEAN NOT NULL DEFAULT false;
`,
  'approval-inbox': `
CREATE INDEX events_approval_requested ON {schema}.events (run_id, seq) WHERE type = 'approval.requested';
CREATE INDEX events_approval_decided ON {schema}.events (run_id, seq) WHERE type = 'approval.decided';
`,
  'budget-ledgers': `
CREATE TABLE {schema}.budget_charges (
  ledger TEXT NOT NULL,
  key TEXT NOT NULL,
  tokens DOUBLE PRECISION NOT NULL DEFAULT 0,
  usd DOUBLE PRECISION NOT NULL DEFAULT 0,
  model_calls DOUBLE PRECISION NOT NULL DEFAULT 0,
  tool_calls DOUBLE PRECISION NOT NULL DEFAULT 0,
  settled BOOLEAN NOT NULL DEFAULT false,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (ledger, key)
);
`,
  'checkpoint-status': `
ALTER TABLE {schema}.checkpoints ADD COLUMN status TEXT;
`,
  'keyed-signals-and-published-values': `
ALTER TABLE {schema}.signals ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX signals_idempotency ON {schema}.signals (run_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_published ON {schema}.events (run_id, seq) WHERE type = 'event.published';
`,
  'timed-out-runs-finish': `
DROP INDEX {schema}.runs_finished;
CREATE INDEX runs_finished ON {schema}.runs (updated_at) WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out');
`,
  'live-run-streams': `
CREATE UNLOGGED TABLE {schema}.run_stream_parts (
  run_id TEXT NOT NULL,
  id BIGINT NOT NULL,
  after_seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  op INTEGER,
  data JSONB NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (run_id, id)
);
CREATE INDEX run_stream_parts_at ON {schema}.run_stream_parts (at);
`,
  // A step rewrites its run's row (last_seq, head_hash, updated_at). While an index names
  // updated_at, PostgreSQL cannot update the row in place (a HOT update) and adds an entry to
  // every index of runs instead: five index writes per step. The finished-runs index reads
  // finished_at, set once when a run finishes. Pages keep room for in-place versions.
  'finished-at': `
ALTER TABLE {schema}.runs ADD COLUMN finished_at BIGINT;
UPDATE {schema}.runs SET finished_at = updated_at WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out');
DROP INDEX {schema}.runs_finished;
CREATE INDEX runs_finished ON {schema}.runs (finished_at) WHERE status IN ('completed', 'failed', 'cancelled', 'timed_out');
ALTER TABLE {schema}.runs SET (fillfactor = 85);
`,
  workers: `
CREATE TABLE {schema}.workers (
  worker_id   TEXT PRIMARY KEY,
  host        TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  started_at  BIGINT NOT NULL,
  concurrency INTEGER NOT NULL,
  workflows   JSONB NOT NULL,
  run_ids     JSONB NOT NULL,
  beat_at     BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL
);
`,
  // SQLite only: PostgreSQL's events table is a heap already (its key an index beside it), and its
  // finished runs have been indexed by finished_at since 'finished-at'.
  'lean-step-writes': '',
  // A claim reads pending runs through this index in claim order and stops after the runs it
  // takes (PostgresStatements.claimRuns). The fair-queue index lacked run_id, the last tie-break,
  // and held paused runs; and the claim, one OR of every claimable state, could not read any index
  // in order: each claim sorted the whole pending backlog (at 100,000 pending, 54 ms, spilled to disk).
  'claim-order': `
DROP INDEX {schema}.runs_fair;
CREATE INDEX runs_claim ON {schema}.runs (priority DESC, fair_key, created_at, run_id) WHERE status = 'pending' AND NOT paused;
`,
};

/** A step of the PostgreSQL store's schema: the SQL that brings it to `version`. */
export type PostgresMigration = Migration;

/** The PostgreSQL store's schema steps, by the version each brings it to. */
export const postgresMigrations: readonly PostgresMigration[] = backendMigrations('postgres', SQL);

export const POSTGRES_SCHEMA_VERSION = postgresMigrations[postgresMigrations.length - 1]!.version;
