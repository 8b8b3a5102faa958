import pg from 'pg';
import {
  BatonError,
  ConfigError,
  SeqConflictError,
  RunFinishedError,
  RunNotFoundError,
  RunNotResumableError,
  StoreCorruptError,
  StoreNotFoundError,
} from '../../errors.ts';
import type { JournalEvent } from '../../journal/events.ts';
import type { ApprovalQuery } from '../approval-query.ts';
import type { BudgetStore } from '../budget-store.ts';
import type { WorkerRegistry } from '../worker-registry.ts';
import { SqlWorkers } from '../sql-workers.ts';
import type { CheckpointStore } from '../checkpoints.ts';
import type { EventQuery } from '../event-query.ts';
import type { PoolStore } from '../pool-store.ts';
import type { VectorRecordStore } from '../vector-records.ts';
import {
  isTerminal,
  type CancelDetails,
  type JournalWrite,
  type LeaseStatus,
  type NewRun,
  type NewSignal,
  type RunFilter,
  type RunRecord,
  type RunStatus,
  type SignalDelivery,
  type SignalRecord,
  type Store,
  type TenantScope,
  type WriteOutcome,
} from '../store.ts';
import {
  checkClock,
  connectWithRetry,
  describeLocation,
  isConnectionError,
  isTransientConflict,
  translateError,
} from './postgres-connection.ts';
import { migrate, quoteIdentifier, readVersion } from './postgres-migrate.ts';
import { checkAdmission } from './postgres-admission.ts';
import { PostgresBudgets } from './postgres-budget-store.ts';
import { SqlCheckpoints } from '../sql-checkpoints.ts';
import {
  applyBatch,
  applyEachInSavepoint,
  applyWrite,
  compareText,
  type BatchResult,
} from './postgres-commit.ts';
import { postgresDialect } from './postgres-dialect.ts';
import { ReadQueries } from '../read-queries.ts';
import { definedFields } from '../../defined-fields.ts';
import type { SqlQuery } from '../sql-dialect.ts';
import { PostgresPools } from './postgres-pool-store.ts';
import { eventColumns, signalValues, toEvent, toRun, toSignal, type Row } from './postgres-rows.ts';
import { PostgresSignals } from './postgres-signals.ts';
import { PostgresStatements } from './postgres-statements.ts';
import { PostgresVectorRecords } from './postgres-vector-records.ts';
import { coalescingSocket } from './coalescing-socket.ts';
import { WakeChannel } from './wake-channel.ts';
import { PostgresRunStreams } from './postgres-run-streams.ts';
import type { RunStreamStore } from '../run-streams.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (any libpq-style URL `pg` accepts). */
  url: string;
  /** Connections this process keeps at most. Default 10. A LISTEN connection comes on top when a worker subscribes. */
  poolSize?: number;
  /** The schema holding Baton's tables, created if missing. Default `baton`. */
  schema?: string;
  /** How long `open` keeps retrying (with backoff) while the server cannot be reached. Default 10 s. */
  connectTimeoutMs?: number;
  /** The clock of this process, compared with the server's at open. Default `Date.now`. */
  clock?: () => number;
  /** How far this machine's clock may be from the server's. Default 2000 ms. */
  maxClockSkewMs?: number;
  /** What to do when the clocks disagree by more: refuse to open (default) or log a warning. */
  onClockSkew?: 'refuse' | 'warn';
  /** Shown to the server as `application_name` (pg_stat_activity). Default `baton`. */
  applicationName?: string;
  /** Where the store reports problems it recovers from. Default: stderr. */
  log?: (message: string, error?: unknown) => void;
  /**
   * Create Baton's schema and tables when they are not there (default true). When false, a database
   * without them fails with StoreNotFoundError and nothing is written (read-only tools). A missing
   * database is never created: it is a StoreNotFoundError either way.
   */
  create?: boolean;
}

type Client = pg.PoolClient;

/** Deadlocks and serialization failures roll a transaction back whole; it is run again this many times. */
const CONFLICT_RETRIES = 5;

/**
 * The scale-out store: every worker, on any number of hosts, points at one PostgreSQL database.
 *
 * - Claims take runs with `FOR UPDATE SKIP LOCKED`, so claimers never wait on one another.
 * - `commit` writes the batch the engine's Committer hands it in one transaction (group commit):
 *   plain step writes of many runs as one set-based statement, the others one statement each, all
 *   pipelined on one connection. Every write is fenced by the run's lease owner and last seq: a
 *   fenced-out write changes nothing and fails alone. Should a write fail in a way the fence does
 *   not catch (a constraint), the batch runs again with a SAVEPOINT per write, so it fails alone too.
 * - Transactions that make a run runnable send `NOTIFY`; {@link PostgresStore.subscribe} listens.
 * - A lost connection surfaces as a retryable StoreUnavailableError: the run's journal stops, its
 *   lease expires, and any worker resumes it by replay.
 * - It has every optional capability of the SQLite store, with the same semantics (the same
 *   conformance suites): checkpoints, queryEvents, pools and admission, vectorRecords,
 *   pendingApprovals, budgets, workers; and `subscribe` on top.
 *
 * @example
 * const store = await PostgresStore.open({ url: 'postgres://baton@db.internal:5432/baton', poolSize: 20 });
 * const baton = await Baton.open({ store, workflows: [support] });
 */
export class PostgresStore implements Store {
  readonly specificationVersion = 'v1' as const;
  readonly location: string;
  readonly checkpoints: CheckpointStore;
  readonly pools: PoolStore;
  readonly vectorRecords: VectorRecordStore;
  readonly budgets: BudgetStore;
  readonly runStreams: RunStreamStore;
  readonly #streamChannel: WakeChannel;
  readonly workers: WorkerRegistry;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #sql: PostgresStatements;
  readonly #reads: ReadQueries;
  readonly #wake: WakeChannel;
  readonly #channel: string;
  readonly #signals: PostgresSignals;
  #closed = false;

  private constructor(
    pool: pg.Pool,
    location: string,
    schema: string,
    wake: WakeChannel,
    channel: string,
    streamChannel: WakeChannel,
  ) {
    this.#pool = pool;
    this.location = location;
    this.#schema = quoteIdentifier(schema);
    this.#sql = new PostgresStatements(this.#schema);
    const dialect = postgresDialect(this.#schema);
    this.#reads = new ReadQueries(dialect);
    this.checkpoints = new SqlCheckpoints(dialect, this.#reads, (query) => this.#read(query));
    this.pools = new PostgresPools({
      quotedSchema: this.#schema,
      transaction: (fn) => this.#transaction(fn),
      notify: (client) => this.#notify(client),
    });
    const shared = {
      quotedSchema: this.#schema,
      schema,
      query: (text: string, values: unknown[], options?: { name?: string; idempotent?: boolean }) =>
        this.#query(text, values, options),
      transaction: <T>(fn: (client: Client) => Promise<T>) => this.#transaction(fn),
    };
    this.vectorRecords = new PostgresVectorRecords(shared);
    this.budgets = new PostgresBudgets(shared);
    this.#streamChannel = streamChannel;
    this.runStreams = new PostgresRunStreams({
      ...shared,
      pipelined: (statements) => this.#pipelined(statements),
      channel: `${schema}_stream`,
      listen: streamChannel,
    });
    this.workers = new SqlWorkers(dialect, this.#reads, (query) => this.#read(query));
    this.#wake = wake;
    this.#channel = channel;
    this.#signals = new PostgresSignals({
      statement: this.#sql.sendSignal,
      channel,
      query: (text, values, options) => this.#query(text, values, options),
      transaction: (fn) => this.#transaction(fn),
    });
  }

  /**
   * Connects (retrying with backoff while the server is unreachable), checks the clocks, and
   * creates or migrates the schema. A schema written by a newer Baton is refused with
   * StoreVersionError and left untouched.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const location = describeLocation(options.url);
    const schema = options.schema ?? 'baton';
    if (!/^[a-z_][a-z0-9_]{0,49}$/.test(schema)) {
      throw new ConfigError(
        `The PostgreSQL schema name '${schema}' must be 1–50 of a–z, 0–9 and '_', not starting with a digit.`,
      );
    }
    const poolSize = options.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new ConfigError(`poolSize must be a whole number ≥ 1, got ${String(options.poolSize)}.`);
    }
    const log =
      options.log ?? ((message: string, error?: unknown) => console.error(`[baton] ${message}`, error ?? ''));
    const config: pg.ClientConfig = {
      connectionString: options.url,
      application_name: options.applicationName ?? 'baton',
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      stream: coalescingSocket,
    };
    // Pool connections pipeline their queries: a batch's writes go out without waiting on each other.
    const poolConfig: pg.PoolConfig = { ...config, pipeline: true, max: poolSize, idleTimeoutMillis: 30_000 };
    const pool = new pg.Pool(poolConfig);
    // An idle connection that dies (server restart, network) is dropped by the pool; the next
    // query opens a new one. Without a listener, the error would end the process.
    pool.on('error', (error) =>
      log(`an idle connection to ${location} failed (${error.message}); it was dropped`),
    );
    try {
      const client = await connectWithRetry(pool, location, options.connectTimeoutMs ?? 10_000, log);
      try {
        await checkClock(
          client,
          {
            location,
            clock: options.clock ?? Date.now,
            toleranceMs: options.maxClockSkewMs ?? 2000,
            onSkew: options.onClockSkew ?? 'refuse',
          },
          log,
        );
        if (options.create === false && (await readVersion(client, schema, location)) === 0) {
          throw new StoreNotFoundError({
            location,
            reason: `the database has no Baton schema '${schema}'`,
          });
        }
        await migrate(client, schema, location);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => {});
      if (BatonError.isInstance(error)) throw error;
      const translated = translateError(error, location);
      if (BatonError.isInstance(translated)) throw translated;
      throw new StoreCorruptError({ location, reason: (error as Error).message, cause: error });
    }
    const channel = `${schema}_wake`;
    return new PostgresStore(
      pool,
      location,
      schema,
      new WakeChannel(config, channel, log),
      channel,
      new WakeChannel(config, `${schema}_stream`, log),
    );
  }

  // ---- connections and transactions -----------------------------------------------------------

  async #client(): Promise<Client> {
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw translateError(error, this.location);
    }
  }

  /** One statement on any pooled connection; a read retried once if its connection had died. */
  async #query(
    text: string,
    values: unknown[],
    options: { name?: string; idempotent?: boolean } = {},
  ): Promise<Row[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#pool.query<Row>(
          options.name ? { name: options.name, text, values } : { text, values },
        );
        return result.rows;
      } catch (error) {
        if (isTransientConflict(error) && attempt <= CONFLICT_RETRIES) continue;
        if (options.idempotent && isConnectionError(error) && attempt === 1) continue;
        throw translateError(error, this.location);
      }
    }
  }

  /** Runs `fn` in a transaction, again from the start after a deadlock or serialization failure. */
  async #transaction<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#client();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isConnectionError(error)) broken = error as Error;
        else await client.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback as Error));
        if (isTransientConflict(error) && attempt <= CONFLICT_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
          continue;
        }
        throw translateError(error, this.location);
      } finally {
        // A connection that failed is destroyed rather than returned to the pool.
        client.release(broken);
      }
    }
  }

  /**
   * Statements that need no answer from one another, as one transaction sent at once: BEGIN, the
   * statements and COMMIT go out together (the connection pipelines them), one round trip instead
   * of three. A failing statement fails those after it; COMMIT then rolls the transaction back.
   * Run again from the start after a deadlock or serialization failure.
   */
  async #pipelined(statements: readonly pg.QueryConfig[]): Promise<Row[]> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#client();
      const sent = [
        client.query('BEGIN'),
        ...statements.map((statement) => client.query(statement)),
        client.query('COMMIT'),
      ];
      const settled = await Promise.allSettled(sent);
      const failure = settled.find((result) => result.status === 'rejected')?.reason as unknown;
      client.release(failure !== undefined && isConnectionError(failure) ? (failure as Error) : undefined);
      // The rows of the last statement before COMMIT.
      if (failure === undefined)
        return (settled[settled.length - 2] as PromiseFulfilledResult<pg.QueryResult<Row>>).value.rows;
      if (isTransientConflict(failure) && attempt <= CONFLICT_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
        continue;
      }
      throw translateError(failure, this.location);
    }
  }

  async #notify(client: Client): Promise<void> {
    await client.query({ name: 'baton_notify', text: 'SELECT pg_notify($1, NULL)', values: [this.#channel] });
  }

  // ---- runs ---------------------------------------------------------------------------------------

  async createRun(
    run: NewRun,
    started: JournalEvent<'run.started'>,
  ): Promise<{ run: RunRecord; created: boolean }> {
    return this.#transaction(async (client) => {
      if (run.idempotencyKey !== undefined) {
        const existing = await client.query<Row>(this.#sql.runByIdempotencyKey, [
          run.tenant,
          run.idempotencyKey,
        ]);
        if (existing.rows[0]) return { run: toRun(existing.rows[0]), created: false };
      }
      await checkAdmission(client, this.#schema, run);
      const inserted = await client.query<Row>({
        name: 'baton_create_run',
        text: this.#sql.createRun,
        values: [
          run.runId,
          run.workflow,
          run.tenant,
          run.principal,
          JSON.stringify(run.input ?? null),
          run.parentRunId ?? null,
          run.idempotencyKey ?? null,
          run.priority ?? 0,
          JSON.stringify(run.metadata ?? {}),
          run.createdAt,
          run.deadlineAt ?? null,
          (run.fork?.events.at(-1) ?? started).seq,
          (run.fork?.events.at(-1) ?? started).hash,
          ...eventColumns([started, ...(run.fork?.events ?? [])]),
        ],
      });
      const row = inserted.rows[0];
      if (!row) {
        // The idempotency key was taken meanwhile, by a transaction that has now committed.
        const existing = await client.query<Row>(this.#sql.runByIdempotencyKey, [
          run.tenant,
          run.idempotencyKey,
        ]);
        return { run: toRun(existing.rows[0]!), created: false };
      }
      if (run.fork) {
        // Metadata stays the JSON text it was written as; the origin's note is added here, not in SQL.
        const origin = await client.query<Row>(
          `SELECT metadata FROM ${this.#schema}.runs WHERE run_id = $1 FOR UPDATE`,
          [run.fork.origin],
        );
        if (!origin.rows[0]) throw new RunNotFoundError({ runId: run.fork.origin });
        const metadata = JSON.parse(origin.rows[0].metadata as string) as { forkedTo?: unknown[] };
        metadata.forkedTo = [...(metadata.forkedTo ?? []), run.fork.note];
        await client.query(`UPDATE ${this.#schema}.runs SET metadata = $2 WHERE run_id = $1`, [
          run.fork.origin,
          JSON.stringify(metadata),
        ]);
      }
      await this.#notify(client);
      return { run: toRun(row), created: true };
    });
  }

  async getRun(runId: string, scope?: TenantScope): Promise<RunRecord | undefined> {
    const rows = await this.#read(this.#reads.getRun(runId, scope));
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return (await this.#read(this.#reads.listRuns(filter))).map(toRun);
  }

  async findRunIds(prefix: string, limit: number, scope?: TenantScope): Promise<string[]> {
    const rows = await this.#read(this.#reads.findRunIds(prefix, limit, scope));
    return rows.map((row) => row.run_id as string);
  }

  async readEvents(runId: string, fromSeq = 1, scope?: TenantScope): Promise<JournalEvent[]> {
    return (await this.#read(this.#reads.readEvents(runId, fromSeq, scope))).map(toEvent);
  }

  async queryEvents(query: EventQuery): Promise<JournalEvent[]> {
    return (await this.#read(this.#reads.queryEvents(query))).map(toEvent);
  }

  async pendingApprovals(query: ApprovalQuery): Promise<JournalEvent<'approval.requested'>[]> {
    const rows = await this.#read(this.#reads.pendingApprovals(query));
    return rows.map(toEvent) as JournalEvent<'approval.requested'>[];
  }

  /** A query that may run twice, on any pooled connection (retried once if its connection had died). */
  async #read(query: SqlQuery): Promise<Row[]> {
    return this.#query(query.text, [...query.values], {
      idempotent: true,
      ...(query.name === undefined ? {} : { name: query.name }),
    });
  }

  // ---- commit -------------------------------------------------------------------------------------

  async commit(writes: readonly JournalWrite[], now: number): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    const only = writes[0]!;
    if (writes.length === 1 && only.transition === undefined) {
      // One write that moves no run on is one statement, atomic by itself: no transaction around it.
      let applied: Awaited<ReturnType<typeof applyWrite>>;
      try {
        applied = await applyWrite(this.#pool, this.#sql, only, now);
      } catch (error) {
        const translated = translateError(error, this.location);
        if (translated !== error) throw translated;
        return [{ ok: false, error: error as Error }];
      }
      return [applied instanceof Error ? { ok: false, error: applied } : { ok: true }];
    }
    return this.#transaction(async (client) => {
      let result: BatchResult;
      try {
        result = await applyBatch(client, this.#sql, writes, now);
      } catch (error) {
        if (isConnectionError(error) || isTransientConflict(error)) throw error;
        // A write broke a constraint its fence does not check, aborting the transaction: start it
        // again, this time with a savepoint per write so that write fails alone.
        await client.query('ROLLBACK');
        await client.query('BEGIN');
        result = await applyEachInSavepoint(client, this.#sql, writes, now);
      }
      if (result.parents.length > 0) {
        await client.query({
          name: 'baton_wake_runs',
          text: this.#sql.wakeRuns,
          values: [result.parents, now],
        });
      }
      if (result.runnable || result.parents.length > 0) await this.#notify(client);
      return result.outcomes;
    });
  }

  // ---- leases -------------------------------------------------------------------------------------

  async claimRuns(
    owner: string,
    options: { limit: number; leaseMs: number; now: number; workflows?: readonly string[] },
  ): Promise<RunRecord[]> {
    if (options.limit <= 0 || options.workflows?.length === 0) return [];
    const rows = await this.#query(
      this.#sql.claimRuns,
      [owner, options.now + options.leaseMs, options.now, options.limit, options.workflows ?? null],
      { name: 'baton_claim_runs' },
    );
    rows.sort(
      (a, b) =>
        Number(b.priority) - Number(a.priority) ||
        Number(a.fair_key) - Number(b.fair_key) ||
        Number(a.created_at) - Number(b.created_at) ||
        compareText(a.run_id as string, b.run_id as string),
    );
    return rows.map(toRun);
  }

  async renewLeases(
    owner: string,
    runIds: readonly string[],
    leaseMs: number,
    now: number,
  ): Promise<LeaseStatus[]> {
    if (runIds.length === 0) return [];
    const rows = await this.#query(this.#sql.renewLeases, [[...runIds], owner, now + leaseMs], {
      name: 'baton_renew_leases',
    });
    const held = new Map(rows.map((row) => [row.run_id as string, row]));
    return runIds.map((runId) => {
      const row = held.get(runId);
      const status: LeaseStatus = {
        runId,
        held: row !== undefined,
        cancelRequested: row?.cancel_requested === true,
      };
      if (row?.paused === true) status.paused = true;
      return status;
    });
  }

  async nextWakeAt(): Promise<number | undefined> {
    const rows = await this.#query(this.#sql.nextWakeAt, [], {
      name: 'baton_next_wake_at',
      idempotent: true,
    });
    const at = rows[0]?.at;
    return at == null ? undefined : Number(at);
  }

  // ---- signals and cancellation -------------------------------------------------------------------

  async sendSignal(signal: NewSignal, scope?: TenantScope): Promise<SignalDelivery> {
    // No key to look up first: one statement, committed with the other sends of the moment.
    if (signal.idempotencyKey === undefined) return this.#signals.send(signal, scope);
    return this.#transaction(async (client) => {
      const keyed = async (): Promise<SignalRecord | undefined> => {
        if (signal.idempotencyKey === undefined) return undefined;
        const { text, values } = this.#reads.keyedSignal(signal.runId, signal.idempotencyKey, scope);
        const found = await client.query<Row>(text, [...values]);
        return found.rows[0] ? toSignal(found.rows[0]) : undefined;
      };
      const before = await keyed();
      if (before) return { kept: false, existing: before };
      await this.#lockForAction(client, signal.runId, scope, 'signal');
      const inserted = await client.query(this.#sql.insertSignal, signalValues(signal));
      // A signal id already kept was already a wake-up; a key kept meanwhile is the one returned.
      if (inserted.rowCount === 0) {
        const raced = await keyed();
        return raced ? { kept: false, existing: raced } : { kept: true };
      }
      await client.query({
        name: 'baton_wake_runs',
        text: this.#sql.wakeRuns,
        values: [[signal.runId], signal.sentAt],
      });
      await this.#notify(client);
      return { kept: true };
    });
  }

  /** Locks the run's row, and refuses an unknown run (in the scope) or a finished one. */
  async #lockForAction(
    client: Client,
    runId: string,
    scope: TenantScope | undefined,
    action: string,
  ): Promise<Row> {
    const result = await client.query<Row>(this.#sql.lockRun, [runId, scope?.tenant ?? null]);
    const row = result.rows[0];
    if (!row) throw new RunNotFoundError({ runId });
    if (isTerminal(row.status as RunStatus))
      throw new RunFinishedError({ runId, status: row.status as string, action });
    return row;
  }

  async pendingSignals(runId: string): Promise<SignalRecord[]> {
    return (await this.#read(this.#reads.pendingSignals(runId))).map(toSignal);
  }

  async requestCancel(
    runId: string,
    reason: string | undefined,
    now: number,
    scope?: TenantScope,
    details: CancelDetails = {},
  ): Promise<RunRecord> {
    return this.#transaction(async (client) => {
      const row = await this.#lockForAction(client, runId, scope, 'cancel');
      // Metadata stays the JSON text it was written as; it is changed here, not in SQL.
      let metadata: string | null = null;
      if (reason !== undefined || details.by !== undefined || details.children !== undefined) {
        const current = JSON.parse(row.metadata as string) as Record<string, unknown>;
        metadata = JSON.stringify({
          ...current,
          ...definedFields({
            cancelReason: reason,
            cancelledBy: details.by,
            cancelChildren: details.children,
          }),
        });
      }
      const updated = await client.query<Row>(this.#sql.requestCancel, [runId, metadata, now]);
      await this.#notify(client);
      return toRun(updated.rows[0]!);
    });
  }

  async reopenRun(
    runId: string,
    resumed: JournalEvent<'run.resumed'>,
    options: { deadlineAt?: number; now: number },
    scope?: TenantScope,
  ): Promise<RunRecord> {
    return this.#transaction(async (client) => {
      const found = await client.query<Row>(this.#sql.lockForReopen, [runId]);
      const row = found.rows[0];
      if (!row || (scope && row.tenant !== scope.tenant)) throw new RunNotFoundError({ runId });
      const status = row.status as string;
      if (status !== 'failed' && status !== 'cancelled' && status !== 'timed_out')
        throw new RunNotResumableError({ runId, status });
      if (Number(row.last_seq) !== resumed.seq - 1 || row.head_hash !== resumed.prevHash) {
        throw new SeqConflictError({ runId, expectedSeq: resumed.seq, lastSeq: row.last_seq });
      }
      const metadata = JSON.parse(row.metadata as string) as Record<string, unknown>;
      delete metadata.cancelReason;
      delete metadata.cancelledBy;
      delete metadata.cancelChildren;
      const updated = await client.query<Row>(this.#sql.reopenRun, [
        runId,
        JSON.stringify(metadata),
        options.deadlineAt ?? null,
        resumed.seq,
        resumed.hash,
        options.now,
        ...eventColumns([resumed]),
      ]);
      await this.#notify(client);
      return toRun(updated.rows[0]!);
    });
  }

  async pauseRun(runId: string, now: number, scope?: TenantScope): Promise<RunRecord> {
    return this.#setPaused(runId, true, now, scope);
  }

  async resumeRun(runId: string, now: number, scope?: TenantScope): Promise<RunRecord> {
    return this.#setPaused(runId, false, now, scope);
  }

  async #setPaused(
    runId: string,
    paused: boolean,
    now: number,
    scope: TenantScope | undefined,
  ): Promise<RunRecord> {
    return this.#transaction(async (client) => {
      await this.#lockForAction(client, runId, scope, paused ? 'pause' : 'resume');
      const updated = await client.query<Row>(this.#sql.setPaused, [runId, paused, now]);
      // A resumed run may be due at once: wake idle workers.
      if (!paused) await this.#notify(client);
      return toRun(updated.rows[0]!);
    });
  }

  // ---- wake-ups and closing -----------------------------------------------------------------------

  /**
   * Calls `onWake` when another process may have made a run runnable (LISTEN/NOTIFY), and after
   * the listening connection was lost and came back. Resolves once listening (or, if the server
   * is unreachable, once the first attempt failed: it keeps retrying). Returns the unsubscribe.
   */
  subscribe(onWake: () => void): Promise<() => Promise<void>> {
    return this.#wake.subscribe(onWake);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#wake.close();
    await this.#streamChannel.close();
    // Connections still closing may hear the server go; that is no longer news.
    this.#pool.removeAllListeners('error');
    this.#pool.on('error', () => {});
    await this.#pool.end();
  }
}
