/**
 * Every change to the schema of the SQL stores, in one list, in the order they were made. Each has
 * an id (which names it in both backends) and its SQL per backend, kept in the driver folders
 * (sqlite/sqlite-migrations.ts, postgres/postgres-migrations.ts) keyed by that id: a migration
 * missing on one backend does not compile. A backend whose schema needs no change for a migration
 * gives it no statements ('').
 *
 * A store records the schema version it has reached (`baton_meta.schema_version`). The two
 * backends numbered their first migrations differently (SQLite added vector records second,
 * PostgreSQL sixth; SQLite made its fair queue and its pools one migration), so each migration
 * names the version it brings each backend to: those numbers are what databases already hold.
 * From `timed-out-runs-finish` on, one migration raises both by one (a backend a migration does not
 * change, as `finished-at` leaves SQLite, records the version with no statements).
 *
 * To add a migration: append an entry here, with the next version of each backend, and its SQL
 * under the same id in both driver files.
 */
export const MIGRATIONS = [
  { id: 'runs-events-signals', sqlite: 1, postgres: 1, description: 'runs, journal events, signals' },
  {
    id: 'fair-queue',
    sqlite: 4,
    postgres: 2,
    description: 'fair queue between tenants (start-time fair queuing for claims)',
  },
  {
    id: 'vector-records',
    sqlite: 2,
    postgres: 6,
    description: 'vector records (semantic cache, memory, capability index)',
  },
  {
    id: 'signed-checkpoints',
    sqlite: 3,
    postgres: 3,
    description: 'signed checkpoints of hash chains (tamper evidence)',
  },
  {
    id: 'resource-pools',
    sqlite: 4,
    postgres: 4,
    description: 'resource pools (leases, waiters, state) and bounded admission',
  },
  { id: 'paused-runs', sqlite: 5, postgres: 5, description: 'paused runs (operator pause and resume)' },
  {
    id: 'approval-inbox',
    sqlite: 6,
    postgres: 7,
    description: 'approval inbox (indexes over approval events)',
  },
  {
    id: 'budget-ledgers',
    sqlite: 7,
    postgres: 8,
    description: 'budget ledgers shared across runs (per-tenant budgets)',
  },
  {
    id: 'checkpoint-status',
    sqlite: 8,
    postgres: 9,
    description: 'checkpoints sign the run status (a final checkpoint marks the end of a run)',
  },
  {
    id: 'keyed-signals-and-published-values',
    sqlite: 9,
    postgres: 10,
    description: 'exactly-once signals (idempotency keys), published run values',
  },
  { id: 'timed-out-runs-finish', sqlite: 10, postgres: 11, description: 'timed_out runs count as finished' },
  {
    id: 'live-run-streams',
    sqlite: 11,
    postgres: 12,
    description: 'live run streams (ephemeral parts readers tail; on PostgreSQL woken by NOTIFY)',
  },
  {
    id: 'finished-at',
    sqlite: 12,
    postgres: 13,
    description: 'finished runs indexed by finished_at, so a step updates its run in place (HOT)',
  },
  {
    id: 'workers',
    sqlite: 13,
    postgres: 14,
    description: "workers' heartbeats: who is connected and what each runs",
  },
  {
    id: 'lean-step-writes',
    sqlite: 14,
    postgres: 15,
    description:
      "SQLite: journal events in rowid order under a unique (run_id, seq) index; finished runs indexed by finished_at, so a step's run update touches no index",
  },
  {
    id: 'claim-order',
    sqlite: 15,
    postgres: 16,
    description:
      'claimable pending runs indexed in claim order, so a claim reads the runs it takes, not the backlog',
  },
] as const satisfies readonly MigrationEntry[];

/** One entry of {@link MIGRATIONS}. */
export interface MigrationEntry {
  readonly id: string;
  readonly description: string;
  /** The schema version a SQLite store records once this migration is applied. */
  readonly sqlite: number;
  /** The schema version a PostgreSQL store records once this migration is applied. */
  readonly postgres: number;
}

export type MigrationId = (typeof MIGRATIONS)[number]['id'];
export type SqlBackend = 'sqlite' | 'postgres';

/** A backend's SQL for every migration, by id. */
export type MigrationSql = Readonly<Record<MigrationId, string>>;

/** One step of a backend's schema: the SQL that brings a store to `version` (with the ids it applies). */
export interface Migration {
  version: number;
  /** The migrations this step applies, in order. */
  ids: readonly MigrationId[];
  description: string;
  sql: string;
}

/**
 * A backend's migrations as the steps it applies, by the version each brings it to: a store at
 * version v applies the steps above v, in order, and records each step's version.
 */
export function backendMigrations(backend: SqlBackend, sql: MigrationSql): readonly Migration[] {
  const steps = new Map<number, Migration>();
  for (const entry of MIGRATIONS) {
    const version = entry[backend];
    const step = steps.get(version) ?? { version, ids: [], description: '', sql: '' };
    steps.set(version, {
      version,
      ids: [...step.ids, entry.id],
      description: step.description ? `${step.description}; ${entry.description}` : entry.description,
      sql: step.sql + sql[entry.id],
    });
  }
  return [...steps.values()].sort((a, b) => a.version - b.version);
}
