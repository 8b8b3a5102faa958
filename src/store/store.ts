import type { SerializedError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import type { CheckpointStore } from './checkpoints.ts';
import type { EventQuery } from './event-query.ts';
import type { ApprovalQuery } from './approval-query.ts';
import type { BudgetStore } from './budget-store.ts';
import type { PoolStore } from './pool-store.ts';
import type { VectorRecordStore } from './vector-records.ts';
import type { RunStreamStore } from './run-streams.ts';
import type { WorkerRegistry } from './worker-registry.ts';

/**
 * The Store spec: everything Baton keeps, behind one small versioned interface. The engine is
 * written against this type only; `sqlite/` and `postgres/` implement it and pass the same
 * conformance suite (test/store/store-conformance.ts).
 *
 * Times are epoch milliseconds. Every method that takes a `now` uses it instead of its own clock, so
 * workers with an injected clock stay consistent.
 */
export interface Store {
  readonly specificationVersion: 'v1';
  /** Where the store is, for messages (a path or a URL without its password). */
  readonly location: string;

  /**
   * Creates a run and writes its first journal event (`run.started`) in one transaction.
   * With an idempotency key already used in the tenant, nothing is written and the existing run is
   * returned with `created: false`.
   */
  createRun(run: NewRun, started: JournalEvent<'run.started'>): Promise<{ run: RunRecord; created: boolean }>;
  getRun(runId: string, scope?: TenantScope): Promise<RunRecord | undefined>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Ids of runs whose id starts with `prefix` (for suggestions and short ids). */
  findRunIds(prefix: string, limit: number, scope?: TenantScope): Promise<string[]>;

  /** The run's events with `seq >= fromSeq`, in order. With a scope, none unless the run is in that tenant. */
  readEvents(runId: string, fromSeq?: number, scope?: TenantScope): Promise<JournalEvent[]>;

  /**
   * Commits the writes of many runs in one transaction (group commit). Each write is fenced by its
   * lease: when `owner` no longer holds the run, or the run's last seq is not the one before the
   * first event, that write fails alone with {@link WriteOutcome} `ok: false` and the others commit.
   */
  commit(writes: readonly JournalWrite[], now: number): Promise<WriteOutcome[]>;

  /**
   * Leases up to `limit` runnable runs to `owner` for `leaseMs`: pending runs, waiting runs whose
   * wake-up time or deadline has come, and running runs whose lease has expired. Highest priority
   * first; within a priority, in fair-queue order, then oldest first. Fair queue (start-time fair
   * queuing): `createRun` tags each run with max(the store's virtual time, its tenant's last tag) + 1,
   * and claiming a pending run advances the virtual time to its tag; so tenants take turns and one
   * tenant's burst does not hold back the others. Safe to call from many processes at once: a run
   * is leased to one of them.
   */
  claimRuns(
    owner: string,
    options: { limit: number; leaseMs: number; now: number; workflows?: readonly string[] },
  ): Promise<RunRecord[]>;
  /** Extends the leases `owner` still holds, and says which it lost and which were asked to cancel. */
  renewLeases(owner: string, runIds: readonly string[], leaseMs: number, now: number): Promise<LeaseStatus[]>;
  /** The earliest wake-up time among waiting runs, so idle workers know how long to sleep. */
  nextWakeAt(): Promise<number | undefined>;

  /**
   * Keeps a signal for the run and wakes it if it is waiting. A signal sent before the run waits for
   * it is kept until a `waitFor` consumes it. Sending a signal id already kept does nothing more.
   * A signal with an `idempotencyKey` the run already holds (consumed or not, whatever the run's
   * status now) is not kept again: the one kept is returned instead, for the caller to compare.
   * Throws RunNotFoundError / RunFinishedError.
   */
  sendSignal(signal: NewSignal, scope?: TenantScope): Promise<SignalDelivery>;
  /** Signals not yet consumed by the run, oldest first. */
  pendingSignals(runId: string): Promise<SignalRecord[]>;

  /**
   * Marks the run for cancellation and wakes it so its worker (or the next one) ends it. A reason
   * is kept as `metadata.cancelReason`, `details.by` as `metadata.cancelledBy` and
   * `details.children` as `metadata.cancelChildren`. Throws RunNotFoundError / RunFinishedError.
   */
  requestCancel(
    runId: string,
    reason: string | undefined,
    now: number,
    scope?: TenantScope,
    details?: CancelDetails,
  ): Promise<RunRecord>;

  /**
   * Resumes a failed, timed-out or cancelled run in place: appends `resumed` (a sealed `run.resumed`
   * following the run's head) and makes the run pending again, with no result, error or cancel
   * request, and `deadlineAt` as its deadline (none when undefined), in one transaction. Throws
   * RunNotFoundError, RunNotResumableError (running, waiting, pending or completed) or a
   * SEQ_CONFLICT BatonError when the journal moved since `resumed` was sealed.
   */
  reopenRun(
    runId: string,
    resumed: JournalEvent<'run.resumed'>,
    options: { deadlineAt?: number; now: number },
    scope?: TenantScope,
  ): Promise<RunRecord>;

  /**
   * Pauses the run: no worker claims it until it is resumed, whatever its status (a due timer, a
   * signal or an expired lease included). A worker holding it hears of it on its next lease renewal
   * ({@link LeaseStatus.paused}) and releases it. Pausing a paused run does nothing more.
   * Throws RunNotFoundError / RunFinishedError.
   */
  pauseRun(runId: string, now: number, scope?: TenantScope): Promise<RunRecord>;
  /** Makes a paused run claimable again (at once when it is due). Throws RunNotFoundError / RunFinishedError. */
  resumeRun(runId: string, now: number, scope?: TenantScope): Promise<RunRecord>;

  close(): Promise<void>;

  /**
   * Optional: calls `onWake` when another process may have made a run runnable (started, signalled,
   * cancelled, released, a child finished), so idle workers claim at once instead of at their next
   * poll. A hint, not a guarantee: wake-ups may be lost or spurious, and workers keep polling (less
   * often) as a fallback. Resolves with the function that ends the subscription.
   */
  subscribe?(onWake: () => void): Promise<() => Promise<void>>;

  /** Optional: records with embedding vectors (semantic cache, memory, capability index). See vector-records.ts. */
  readonly vectorRecords?: VectorRecordStore;

  /** Optional: signed checkpoints of runs' hash chains (tamper evidence). See checkpoints.ts. */
  readonly checkpoints?: CheckpointStore;

  /**
   * Optional: events across runs matching a filter (audit), oldest first (by `at`, then run and
   * seq), at most `query.limit`.
   */
  queryEvents?(query: EventQuery): Promise<JournalEvent[]>;

  /**
   * Optional: the shared state of resource pools (slots, request and token windows, waiters), so
   * limits hold across every worker process. See pool-store.ts. A store with it also honours
   * {@link NewRun.admission}.
   */
  readonly pools?: PoolStore;

  /**
   * Optional: the `approval.requested` events of runs that have not finished and whose approval has
   * no `approval.decided` yet, oldest first, at most `query.limit` (the approval inbox). See
   * approval-query.ts.
   */
  pendingApprovals?(query: ApprovalQuery): Promise<JournalEvent<'approval.requested'>[]>;

  /** Optional: shared budget ledgers (per-tenant budgets that hold across runs and workers). See budget-store.ts. */
  readonly budgets?: BudgetStore;

  /**
   * Optional: the ephemeral parts of runs' live streams (token deltas, progress), which readers in
   * any process tail and interleave with the journal. See run-streams.ts.
   */
  readonly runStreams?: RunStreamStore;
  /** Optional: the workers sharing the store, as their last heartbeats (who is connected, what each runs). See worker-registry.ts. */
  readonly workers?: WorkerRegistry;
}

/** `continued`: closed by `ctx.continueAsNew`; its journal's last event names the successor. */
export type RunStatus =
  'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'continued';
export const TERMINAL_STATUSES: readonly RunStatus[] = [
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'continued',
];
export function isTerminal(status: RunStatus): boolean {
  return (
    status === 'completed' ||
    status === 'failed' ||
    status === 'cancelled' ||
    status === 'timed_out' ||
    status === 'continued'
  );
}

/** Who asked a run to cancel, and whether its children go with it (kept in the run's metadata). */
export interface CancelDetails {
  by?: string;
  children?: 'cancel' | 'abandon';
}

export interface TenantScope {
  tenant: string;
}

export interface NewRun {
  runId: string;
  workflow: string;
  tenant: string;
  principal: string;
  input: unknown;
  parentRunId?: string;
  idempotencyKey?: string;
  priority?: number;
  deadlineAt?: number;
  /** Free-form data the layers above keep with the run (grants, labels). JSON. */
  metadata?: Record<string, unknown>;
  createdAt: number;
  /**
   * Bounded admission (stores with `pools`): in the same transaction as the insert, when the
   * pending runs (of all tenants, or of this run's tenant) already number the bound, nothing is
   * written and OverloadedError is thrown, its `retryAfterMs` from the rate at which runs finished
   * in the last minute. An idempotency key already used returns its run first, bound or not.
   */
  admission?: AdmissionBound;
  /**
   * A fork (src/explain/fork.ts), created in the same transaction: `events` follow `run.started`
   * in the new run's journal (seq 2, 3, …, chained to it; the run's lastSeq and headHash are the
   * last one's), and `note` is appended to the origin run's `metadata.forkedTo` list. The origin's
   * journal is not touched (docs/decisions/0011-replay-fork-and-telemetry.md).
   */
  fork?: { events: readonly JournalEvent[]; origin: string; note: ForkNote };
}

/** What an origin run keeps, in `metadata.forkedTo`, of each fork made from it. */
export interface ForkNote {
  type: 'run.forkedTo';
  /** The fork. */
  runId: string;
  /** The origin's last seq the fork reuses. */
  seq: number;
  /** ISO-8601. */
  at: string;
  /** Who forked it. */
  by: string;
}

export interface AdmissionBound {
  maxQueuedRuns?: number;
  maxQueuedRunsPerTenant?: number;
}

export interface RunRecord {
  runId: string;
  workflow: string;
  tenant: string;
  principal: string;
  status: RunStatus;
  input: unknown;
  result?: unknown;
  error?: SerializedError;
  parentRunId?: string;
  idempotencyKey?: string;
  priority: number;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  wakeAt?: number;
  deadlineAt?: number;
  leaseOwner?: string;
  leaseExpiresAt?: number;
  /** Seq of the last journal event (0 for none). */
  lastSeq: number;
  /** Hash of the last journal event. */
  headHash: string;
  /** Bumped by every wake-up (signal, child finished, cancel) so a worker that parks the run can tell it missed one. */
  wakeGen: number;
  cancelRequested: boolean;
  /** True while the run is paused (Store.pauseRun): no worker claims it. Absent otherwise. */
  paused?: boolean;
}

export interface RunFilter {
  tenant?: string;
  status?: readonly RunStatus[];
  workflow?: string;
  parentRunId?: string;
  /** Runs created before this time (for paging, newest first). */
  createdBefore?: number;
  limit?: number;
}

/** How a write moves the run on, in the same transaction as its events. */
export type RunTransition =
  | { status: 'completed'; result?: unknown }
  | { status: 'failed'; error: SerializedError }
  | { status: 'cancelled' }
  | { status: 'continued' }
  | { status: 'timed_out'; error: SerializedError }
  /**
   * Park the run. It becomes `pending` instead if a wake-up came since the worker saw `seenWakeGen`,
   * or if it was asked to cancel, unless `cancelHandled` (the workflow was told and handles it).
   */
  | { status: 'waiting'; wakeAt?: number; seenWakeGen: number; cancelHandled?: boolean }
  /** Release the lease; another worker (or this one) picks the run up again. */
  | { status: 'pending' };

export interface JournalWrite {
  runId: string;
  /** The lease owner; the write fails unless it still holds the run. */
  owner: string;
  /** Consecutive events following the run's last seq. May be empty. */
  events: readonly JournalEvent[];
  /** Signal ids this write consumes (journaled in `events` as signal.received). */
  consumeSignals?: readonly string[];
  transition?: RunTransition;
}

export type WriteOutcome = { ok: true } | { ok: false; error: Error };

export interface LeaseStatus {
  runId: string;
  held: boolean;
  cancelRequested: boolean;
  /** True when the run was paused: the holder should release it. Absent otherwise. */
  paused?: boolean;
}

export interface NewSignal {
  signalId: string;
  runId: string;
  name: string;
  payload?: unknown;
  sentBy: string;
  sentAt: number;
  /** Unique per run: a second signal with the same key is not kept (exactly-once delivery). */
  idempotencyKey?: string;
}

/** What `sendSignal` did: kept the signal, or found one already kept under its idempotency key. */
export type SignalDelivery = { kept: true } | { kept: false; existing: SignalRecord };

export interface SignalRecord extends NewSignal {
  consumed: boolean;
}
