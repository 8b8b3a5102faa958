import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LeaseLostError,
  RunFinishedError,
  RunNotResumableError,
  RunNotFoundError,
  StoreCorruptError,
  StoreNotFoundError,
  StoreVersionError,
  BatonError,
  SeqConflictError,
  SignalConsumedError,
} from '../../errors.ts';
import type { JournalEvent } from '../../journal/events.ts';
import { onBehalfOfJsonOf, payloadJsonOf } from '../../journal/hash-chain.ts';
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
import type { VectorRecordStore } from '../vector-records.ts';
import type { CheckpointStore } from '../checkpoints.ts';
import type { EventQuery } from '../event-query.ts';
import type { ApprovalQuery } from '../approval-query.ts';
import type { BudgetStore } from '../budget-store.ts';
import type { WorkerRegistry } from '../worker-registry.ts';
import { SqlWorkers } from '../sql-workers.ts';
import { SqliteBudgets } from './sqlite-budget-store.ts';
import { SqlCheckpoints } from '../sql-checkpoints.ts';
import { sqliteMediumError } from './sqlite-errors.ts';
import { sqliteDialect } from './sqlite-dialect.ts';
import { ReadQueries } from '../read-queries.ts';
import { definedFields } from '../../defined-fields.ts';
import { signalValues, toEvent, toRun, toSignal, type Row } from '../store-rows.ts';
import { SQLITE_SCHEMA_VERSION } from './sqlite-migrations.ts';
import { migrate, readSchemaVersion } from './sqlite-migrate.ts';
import type { PoolStore } from '../pool-store.ts';
import { checkAdmission } from './sqlite-admission.ts';
import { advanceVirtualTime, claimParams, claimSql, nextFairKey } from './sqlite-fair-queue.ts';
import { SqlitePools } from './sqlite-pool-store.ts';
import { SqliteVectorRecords } from './sqlite-vector-records.ts';
import { SqliteRunStreams } from './sqlite-run-streams.ts';
import type { RunStreamStore } from '../run-streams.ts';
import { StatementCache } from './statement-cache.ts';
import { EVENT_COLUMNS, readEventRows } from './sqlite-event-rows.ts';

const EVENTS_SQL = `SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ? AND seq >= ? ORDER BY seq`;
const SCOPED_EVENTS_SQL = `SELECT ${EVENT_COLUMNS.replace(/(\w+)/g, 'e.$1')} FROM events e
  JOIN runs r ON r.run_id = e.run_id WHERE e.run_id = ? AND e.seq >= ? AND r.tenant = ? ORDER BY e.seq`;

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  path: string;
  /**
   * `full` (default) fsyncs the WAL on every journal commit: a committed step survives power loss.
   * Claims, lease renewals, pool grants and live stream parts commit without an fsync; the
   * journal's next commit carries them to the disk, and a power cut before it loses none of the journal.
   * `normal` survives a process crash but not power loss.
   */
  durability?: 'full' | 'normal';
  /** How long to wait for another process's write lock, in ms. */
  busyTimeoutMs?: number;
  /**
   * Create the file and Baton's tables when they are not there (default true). When false, a path
   * with no Baton store fails with StoreNotFoundError and nothing is written (read-only tools).
   */
  create?: boolean;
  /**
   * Open for reading only (an auditor's copy, a read-only mount): nothing is migrated or written,
   * and every write fails with STORE_READ_ONLY. The read commands of the CLI open stores this way.
   */
  readOnly?: boolean;
}

/** A write failed after changing rows: the batch is redone with a savepoint per write. */
class PartialWrite extends Error {}

/**
 * The embedded store: one SQLite file in WAL mode, safe to share between processes on one machine.
 * Built on `node:sqlite` (no native build). Writes take the database lock with BEGIN IMMEDIATE.
 */
export class SqliteStore implements Store {
  readonly specificationVersion = 'v1' as const;
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #statements: StatementCache;
  readonly #reads = new ReadQueries(sqliteDialect);
  readonly vectorRecords: VectorRecordStore;
  readonly checkpoints: CheckpointStore;
  readonly pools: PoolStore;
  readonly budgets: BudgetStore;
  readonly runStreams: RunStreamStore;
  readonly #runStreams: SqliteRunStreams;
  /** Whether commits fsync (FULL, WAL), so the writes a power cut may lose can skip it. */
  readonly #relaxSync: boolean;
  readonly workers: WorkerRegistry;
  #signalTurn = false;
  #signalQueue: {
    signal: NewSignal;
    scope: TenantScope | undefined;
    resolve: (delivery: SignalDelivery) => void;
    reject: (error: unknown) => void;
  }[] = [];

  private constructor(db: DatabaseSync, location: string, readOnly: boolean) {
    this.#db = db;
    this.#statements = new StatementCache(db);
    this.location = location;
    this.vectorRecords = new SqliteVectorRecords(db);
    this.checkpoints = new SqlCheckpoints(sqliteDialect, this.#reads, async (query) =>
      this.#statements.read(query),
    );
    this.budgets = new SqliteBudgets(db);
    this.workers = new SqlWorkers(sqliteDialect, this.#reads, async (query) => this.#statements.read(query));
    const durability = Number(db.prepare('PRAGMA synchronous').get()?.synchronous) >= 2 ? 'full' : 'normal';
    const wal = db.prepare('PRAGMA journal_mode').get()?.journal_mode === 'wal';
    this.#relaxSync = durability === 'full' && wal && !readOnly;
    this.pools = new SqlitePools(db, { relaxSync: this.#relaxSync });
    this.#runStreams = new SqliteRunStreams(db, { relaxSync: this.#relaxSync });
    this.runStreams = this.#runStreams;
  }

  /**
   * Opens (and creates or migrates) a store. A file written by a newer Baton, or one that is not a
   * SQLite database, is refused with a clear error and never modified.
   */
  static open(options: SqliteStoreOptions): SqliteStore {
    const location = options.path;
    const isNew = location === ':memory:' || !existsSync(location);
    if (isNew && options.create === false && location !== ':memory:') {
      throw new StoreNotFoundError({ location, reason: 'the file does not exist' });
    }
    const readOnly = options.readOnly === true;
    if (readOnly && isNew && location !== ':memory:')
      throw new StoreNotFoundError({ location, reason: 'there is no store there to read' });
    let db: DatabaseSync;
    try {
      db = readOnly ? openForReading(location) : new DatabaseSync(location);
    } catch (cause) {
      throw (
        sqliteMediumError(cause, location) ??
        new StoreCorruptError({ location, reason: (cause as Error).message, cause })
      );
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
      const version = readSchemaVersion(db, location, isNew);
      if (version === 0 && options.create === false && location !== ':memory:') {
        throw new StoreNotFoundError({ location, reason: 'the file holds no Baton tables' });
      }
      if (version > SQLITE_SCHEMA_VERSION) {
        throw new StoreVersionError({ location, found: version, supported: SQLITE_SCHEMA_VERSION });
      }
      if (!readOnly) {
        if (location !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
        db.exec(`PRAGMA synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
        db.exec('PRAGMA foreign_keys = OFF');
        migrate(db, version);
      }
    } catch (error) {
      db.close();
      if (BatonError.isInstance(error)) throw error;
      throw (
        sqliteMediumError(error, location) ??
        new StoreCorruptError({ location, reason: (error as Error).message, cause: error })
      );
    }
    return new SqliteStore(db, location, readOnly);
  }

  /** One write transaction; `relaxSync` for what a power cut may lose (StatementCache.writeTransaction). */
  #transaction<T>(fn: () => T, options: { relaxSync?: boolean } = {}): T {
    try {
      return this.#statements.writeTransaction(fn, {
        relaxSync: options.relaxSync === true && this.#relaxSync,
      });
    } catch (error) {
      throw sqliteMediumError(error, this.location) ?? error;
    }
  }

  async createRun(
    run: NewRun,
    started: JournalEvent<'run.started'>,
  ): Promise<{ run: RunRecord; created: boolean }> {
    return this.#transaction(() => {
      if (run.idempotencyKey !== undefined) {
        const existing = this.#statements
          .get('SELECT * FROM runs WHERE tenant = ? AND idempotency_key = ?')
          .get(run.tenant, run.idempotencyKey);
        if (existing) return { run: toRun(existing), created: false };
      }
      const prepare = (sql: string): StatementSync => this.#statements.get(sql);
      checkAdmission(prepare, run);
      const head = run.fork?.events.at(-1) ?? started;
      this.#statements
        .get(
          `INSERT INTO runs (run_id, workflow, tenant, principal, status, input, parent_run_id, idempotency_key, priority,
           metadata, created_at, updated_at, deadline_at, last_seq, head_hash, fair_key)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
          run.createdAt,
          run.deadlineAt ?? null,
          head.seq,
          head.hash,
          nextFairKey(prepare, run.tenant),
        );
      this.#insertEvent(started);
      if (run.fork) {
        for (const event of run.fork.events) this.#insertEvent(event);
        const origin = this.#statements
          .get('SELECT metadata FROM runs WHERE run_id = ?')
          .get(run.fork.origin);
        if (!origin) throw new RunNotFoundError({ runId: run.fork.origin });
        const metadata = JSON.parse(origin.metadata as string) as { forkedTo?: unknown[] };
        metadata.forkedTo = [...(metadata.forkedTo ?? []), run.fork.note];
        this.#statements
          .get('UPDATE runs SET metadata = ? WHERE run_id = ?')
          .run(JSON.stringify(metadata), run.fork.origin);
      }
      const row = this.#statements.get('SELECT * FROM runs WHERE run_id = ?').get(run.runId)!;
      return { run: toRun(row), created: true };
    });
  }

  async getRun(runId: string, scope?: TenantScope): Promise<RunRecord | undefined> {
    const row = this.#statements.read(this.#reads.getRun(runId, scope))[0];
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.#statements.read(this.#reads.listRuns(filter)).map(toRun);
  }

  async findRunIds(prefix: string, limit: number, scope?: TenantScope): Promise<string[]> {
    return this.#statements
      .read(this.#reads.findRunIds(prefix, limit, scope))
      .map((row) => row.run_id as string);
  }

  async readEvents(runId: string, fromSeq = 1, scope?: TenantScope): Promise<JournalEvent[]> {
    return scope
      ? readEventRows(this.#statements.get(SCOPED_EVENTS_SQL), [runId, fromSeq, scope.tenant])
      : readEventRows(this.#statements.get(EVENTS_SQL), [runId, fromSeq]);
  }

  async queryEvents(query: EventQuery): Promise<JournalEvent[]> {
    return this.#statements.read(this.#reads.queryEvents(query)).map(toEvent);
  }

  async pendingApprovals(query: ApprovalQuery): Promise<JournalEvent<'approval.requested'>[]> {
    return this.#statements
      .read(this.#reads.pendingApprovals(query))
      .map(toEvent) as JournalEvent<'approval.requested'>[];
  }

  async commit(writes: readonly JournalWrite[], now: number): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    // Fast path: a write fenced out fails before it changes anything, so no savepoint is needed
    // for it. Only an unexpected failure halfway through a write (a constraint, a signal consumed
    // twice) needs one: then the whole batch is rolled back and done again, a savepoint per write.
    let outcomes: WriteOutcome[];
    try {
      outcomes = this.#transaction(() => writes.map((write) => this.#applyWrite(write, now, false)));
    } catch (error) {
      if (!(error instanceof PartialWrite)) throw error;
      outcomes = this.#transaction(() => writes.map((write) => this.#applyWrite(write, now, true)));
    }
    // Committed: the stream parts written from now on follow these heads.
    for (let index = 0; index < writes.length; index++) {
      const write = writes[index]!;
      const last = write.events[write.events.length - 1];
      if (last && outcomes[index]!.ok)
        this.#runStreams.journalCommitted(write.runId, last.seq, write.transition === undefined);
    }
    return outcomes;
  }

  #applyWrite(write: JournalWrite, now: number, guarded: boolean): WriteOutcome {
    if (guarded) this.#statements.get('SAVEPOINT write').run();
    let changed = false;
    try {
      const first = write.events[0];
      const last = write.events[write.events.length - 1];
      if (!first) {
        // No events: check the lease alone.
        const held = this.#statements
          .get(`SELECT 1 FROM runs WHERE run_id = ? AND lease_owner = ? AND status = 'running'`)
          .get(write.runId, write.owner);
        if (!held) throw new LeaseLostError({ runId: write.runId, owner: write.owner });
      } else {
        const fenced = this.#statements
          .get(
            `UPDATE runs SET last_seq = ?, head_hash = ?, updated_at = ?
           WHERE run_id = ? AND lease_owner = ? AND status = 'running' AND last_seq = ?`,
          )
          .run(last!.seq, last!.hash, now, write.runId, write.owner, first.seq - 1);
        if (Number(fenced.changes) !== 1) throw this.#fenceError(write, first.seq);
      }
      changed = true;
      for (const event of write.events) this.#insertEvent(event);
      if (write.consumeSignals) this.#consumeSignals(write.runId, write.consumeSignals);
      if (write.transition) this.#transition(write, now);
      if (guarded) this.#statements.get('RELEASE write').run();
      return { ok: true };
    } catch (error) {
      if (guarded) {
        this.#db.exec('ROLLBACK TO write');
        this.#db.exec('RELEASE write');
      } else if (changed) {
        throw new PartialWrite();
      }
      return { ok: false, error: error as Error };
    }
  }

  #consumeSignals(runId: string, signalIds: readonly string[]): void {
    for (const signalId of signalIds) {
      const consumed = this.#statements
        .get('UPDATE signals SET consumed = 1 WHERE signal_id = ? AND run_id = ? AND consumed = 0')
        .run(signalId, runId);
      if (Number(consumed.changes) !== 1) {
        throw new SignalConsumedError({ runId, signalIds: [signalId] });
      }
    }
  }

  #fenceError(write: JournalWrite, firstSeq: number): Error {
    const row = this.#statements
      .get('SELECT lease_owner, status, last_seq FROM runs WHERE run_id = ?')
      .get(write.runId);
    if (!row) return new RunNotFoundError({ runId: write.runId });
    if (row.lease_owner !== write.owner || row.status !== 'running') {
      return new LeaseLostError({ runId: write.runId, owner: write.owner });
    }
    return new SeqConflictError({ runId: write.runId, expectedSeq: firstSeq, lastSeq: row.last_seq });
  }

  #transition(write: JournalWrite, now: number): void {
    const transition = write.transition!;
    switch (transition.status) {
      case 'completed':
      case 'failed':
      case 'timed_out':
      case 'cancelled':
      case 'continued': {
        // The parent, if any, is read in the same statement: a finished child wakes it.
        const parent = this.#statements
          .get(
            `UPDATE runs SET status = ?, result = ?, error = ?, lease_owner = NULL, lease_expires_at = NULL,
             wake_at = NULL, updated_at = ?, finished_at = ? WHERE run_id = ? RETURNING parent_run_id`,
          )
          .get(
            transition.status,
            transition.status === 'completed' && transition.result !== undefined
              ? JSON.stringify(transition.result)
              : null,
            transition.status === 'failed' || transition.status === 'timed_out'
              ? JSON.stringify(transition.error)
              : null,
            now,
            now,
            write.runId,
          );
        if (parent?.parent_run_id) this.#wake(parent.parent_run_id as string, now);
        return;
      }
      case 'waiting':
        this.#statements
          .get(
            `UPDATE runs SET status = CASE WHEN wake_gen = ? AND (cancel_requested = 0 OR ?) THEN 'waiting' ELSE 'pending' END,
             wake_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE run_id = ?`,
          )
          .run(
            transition.seenWakeGen,
            transition.cancelHandled === true ? 1 : 0,
            transition.wakeAt ?? null,
            now,
            write.runId,
          );
        return;
      case 'pending':
        this.#statements
          .get(
            `UPDATE runs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE run_id = ?`,
          )
          .run(now, write.runId);
        return;
    }
  }

  #wake(runId: string, now: number): void {
    this.#statements
      .get(
        `UPDATE runs SET wake_gen = wake_gen + 1, updated_at = ?,
         status = CASE WHEN status = 'waiting' THEN 'pending' ELSE status END WHERE run_id = ?`,
      )
      .run(now, runId);
  }

  #insertEvent(event: JournalEvent): void {
    this.#statements
      .get(
        `INSERT INTO events (run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        event.runId,
        event.seq,
        event.type,
        event.at,
        event.actor,
        onBehalfOfJsonOf(event),
        payloadJsonOf(event),
        event.prevHash,
        event.hash,
      );
  }

  async claimRuns(
    owner: string,
    options: { limit: number; leaseMs: number; now: number; workflows?: readonly string[] },
  ): Promise<RunRecord[]> {
    const sql = claimSql(options.workflows !== undefined);
    // A claim lost to a power cut leaves its runs pending, to be claimed again: the run's first
    // journal commit, which fsyncs, makes the claim durable with it (decision 0044).
    return this.#transaction(
      () => {
        const rows = this.#statements.get(sql).all(...claimParams(owner, options));
        advanceVirtualTime(
          (text) => this.#statements.get(text),
          rows.map((row) => Number(row.fair_key)),
        );
        return rows.map(toRun);
      },
      { relaxSync: true },
    );
  }

  async renewLeases(
    owner: string,
    runIds: readonly string[],
    leaseMs: number,
    now: number,
  ): Promise<LeaseStatus[]> {
    if (runIds.length === 0) return [];
    return this.#transaction(
      () =>
        runIds.map((runId) => {
          const row = this.#statements
            .get(
              `UPDATE runs SET lease_expires_at = ? WHERE run_id = ? AND lease_owner = ? AND status = 'running'
           RETURNING cancel_requested, paused`,
            )
            .get(now + leaseMs, runId, owner);
          const status: LeaseStatus = {
            runId,
            held: row !== undefined,
            cancelRequested: row?.cancel_requested === 1,
          };
          if (row?.paused === 1) status.paused = true;
          return status;
        }),
      // A renewal lost to a power cut only shortens a lease no process holds any more.
      { relaxSync: true },
    );
  }

  async nextWakeAt(): Promise<number | undefined> {
    const row = this.#statements
      .get(
        `SELECT MIN(t) AS t FROM (
         SELECT MIN(wake_at) AS t FROM runs WHERE status = 'waiting' AND paused = 0
         UNION ALL SELECT MIN(deadline_at) FROM runs WHERE status = 'waiting' AND paused = 0
         UNION ALL SELECT MIN(lease_expires_at) FROM runs WHERE status = 'running' AND paused = 0)`,
      )
      .get();
    return row?.t == null ? undefined : Number(row.t);
  }

  /**
   * The first send of a turn of the event loop commits at once, so a lone signal wakes its run
   * without waiting; the sends that follow it in the same turn share one transaction (one fsync).
   * Each is checked and kept on its own, and an unknown or finished run fails its send alone (it
   * writes nothing).
   */
  sendSignal(signal: NewSignal, scope?: TenantScope): Promise<SignalDelivery> {
    return new Promise((resolve, reject) => {
      this.#signalQueue.push({ signal, scope, resolve, reject });
      if (this.#signalTurn) return;
      this.#signalTurn = true;
      this.#sendQueuedSignals();
      queueMicrotask(() => {
        this.#signalTurn = false;
        if (this.#signalQueue.length > 0) this.#sendQueuedSignals();
      });
    });
  }

  #sendQueuedSignals(): void {
    const batch = this.#signalQueue;
    this.#signalQueue = [];
    const answers: (() => void)[] = [];
    try {
      this.#transaction(() => {
        for (const pending of batch) {
          try {
            const delivery = this.#keepSignal(pending.signal, pending.scope);
            answers.push(() => pending.resolve(delivery));
          } catch (error) {
            // Refused before anything was written (unknown or finished run): that send alone fails.
            if (!(error instanceof RunNotFoundError || error instanceof RunFinishedError)) throw error;
            answers.push(() => pending.reject(error));
          }
        }
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const answer of answers) answer();
  }

  #keepSignal(signal: NewSignal, scope: TenantScope | undefined): SignalDelivery {
    const existing = signal.idempotencyKey === undefined ? undefined : this.#keyedSignal(signal, scope);
    if (existing) return { kept: false, existing };
    this.#runForAction(signal.runId, scope, 'signal');
    this.#statements
      .get(
        `INSERT INTO signals (signal_id, run_id, name, payload, sent_by, sent_at, idempotency_key)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signal_id) DO NOTHING`,
      )
      .run(...signalValues(signal));
    this.#wake(signal.runId, signal.sentAt);
    return { kept: true };
  }

  /** The signal the run already keeps under this signal's idempotency key (in the scope), if any. */
  #keyedSignal(signal: NewSignal, scope: TenantScope | undefined): SignalRecord | undefined {
    const row = this.#statements.read(
      this.#reads.keyedSignal(signal.runId, signal.idempotencyKey!, scope),
    )[0];
    return row ? toSignal(row) : undefined;
  }

  #runForAction(runId: string, scope: TenantScope | undefined, action: string): Row {
    const row = scope
      ? this.#statements
          .get('SELECT status FROM runs WHERE run_id = ? AND tenant = ?')
          .get(runId, scope.tenant)
      : this.#statements.get('SELECT status FROM runs WHERE run_id = ?').get(runId);
    if (!row) throw new RunNotFoundError({ runId });
    if (isTerminal(row.status as RunStatus))
      throw new RunFinishedError({ runId, status: row.status as string, action });
    return row;
  }

  async pendingSignals(runId: string): Promise<SignalRecord[]> {
    return this.#statements.read(this.#reads.pendingSignals(runId)).map(toSignal);
  }

  async requestCancel(
    runId: string,
    reason: string | undefined,
    now: number,
    scope?: TenantScope,
    details: CancelDetails = {},
  ): Promise<RunRecord> {
    return this.#transaction(() => {
      this.#runForAction(runId, scope, 'cancel');
      // A paused run is resumed by its cancellation, so that a worker ends it.
      if (reason === undefined && details.by === undefined && details.children === undefined) {
        this.#statements.get('UPDATE runs SET cancel_requested = 1, paused = 0 WHERE run_id = ?').run(runId);
      } else {
        const row = this.#statements.get('SELECT metadata FROM runs WHERE run_id = ?').get(runId)!;
        const metadata = {
          ...(JSON.parse(row.metadata as string) as Record<string, unknown>),
          ...definedFields({
            cancelReason: reason,
            cancelledBy: details.by,
            cancelChildren: details.children,
          }),
        };
        this.#statements
          .get(`UPDATE runs SET cancel_requested = 1, paused = 0, metadata = ? WHERE run_id = ?`)
          .run(JSON.stringify(metadata), runId);
      }
      this.#wake(runId, now);
      return toRun(this.#statements.get('SELECT * FROM runs WHERE run_id = ?').get(runId)!);
    });
  }

  async reopenRun(
    runId: string,
    resumed: JournalEvent<'run.resumed'>,
    options: { deadlineAt?: number; now: number },
    scope?: TenantScope,
  ): Promise<RunRecord> {
    return this.#transaction(() => {
      const row = scope
        ? this.#statements.get('SELECT * FROM runs WHERE run_id = ? AND tenant = ?').get(runId, scope.tenant)
        : this.#statements.get('SELECT * FROM runs WHERE run_id = ?').get(runId);
      if (!row) throw new RunNotFoundError({ runId });
      const status = row.status as RunStatus;
      if (status !== 'failed' && status !== 'cancelled' && status !== 'timed_out')
        throw new RunNotResumableError({ runId, status });
      if (Number(row.last_seq) !== resumed.seq - 1 || row.head_hash !== resumed.prevHash) {
        throw new SeqConflictError({ runId, expectedSeq: resumed.seq, lastSeq: row.last_seq });
      }
      const metadata = JSON.parse(row.metadata as string) as Record<string, unknown>;
      delete metadata.cancelReason;
      delete metadata.cancelledBy;
      delete metadata.cancelChildren;
      this.#insertEvent(resumed);
      this.#runStreams.forget(runId);
      this.#statements
        .get(
          `UPDATE runs SET status = 'pending', result = NULL, error = NULL, cancel_requested = 0, paused = 0,
           metadata = ?, deadline_at = ?, wake_at = NULL, lease_owner = NULL, lease_expires_at = NULL,
           wake_gen = wake_gen + 1, last_seq = ?, head_hash = ?, updated_at = ?, finished_at = NULL WHERE run_id = ?`,
        )
        .run(
          JSON.stringify(metadata),
          options.deadlineAt ?? null,
          resumed.seq,
          resumed.hash,
          options.now,
          runId,
        );
      return toRun(this.#statements.get('SELECT * FROM runs WHERE run_id = ?').get(runId)!);
    });
  }

  async pauseRun(runId: string, now: number, scope?: TenantScope): Promise<RunRecord> {
    return this.#setPaused(runId, true, now, scope);
  }

  async resumeRun(runId: string, now: number, scope?: TenantScope): Promise<RunRecord> {
    return this.#setPaused(runId, false, now, scope);
  }

  #setPaused(runId: string, paused: boolean, now: number, scope: TenantScope | undefined): RunRecord {
    return this.#transaction(() => {
      this.#runForAction(runId, scope, paused ? 'pause' : 'resume');
      this.#statements
        .get('UPDATE runs SET paused = ?, updated_at = ? WHERE run_id = ? AND paused <> ?')
        .run(paused ? 1 : 0, now, runId, paused ? 1 : 0);
      return toRun(this.#statements.get('SELECT * FROM runs WHERE run_id = ?').get(runId)!);
    });
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

/**
 * Opens a store file for reading. A WAL-mode file in a directory that cannot be written (a
 * read-only mount, an auditor's copy) has no shared-memory file to read through: when it has no
 * WAL file either (everything is in the database file), it is opened as immutable instead.
 */
function openForReading(location: string): DatabaseSync {
  const db = new DatabaseSync(location, { readOnly: true });
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    if (existsSync(`${location}-wal`) || !sqliteMediumError(error, location)) throw error;
    const url = pathToFileURL(resolve(location));
    url.searchParams.set('immutable', '1');
    return new DatabaseSync(url, { readOnly: true });
  }
}
