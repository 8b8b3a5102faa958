import { JournalCorruptError, type SerializedError } from '../errors.ts';
import type {
  JournalEvent,
  JournalEventOf,
  JournalEventPayloads,
  JournalEventType,
} from '../journal/events.ts';
import { GENESIS_HASH } from '../journal/hash-chain.ts';
import type { PoolWaiter } from './pool-decision.ts';
import type { PoolUsage } from './pool-store.ts';
import type { NewSignal, RunRecord, RunStatus, SignalRecord } from './store.ts';
import type { VectorRecord } from './vector-records.ts';
import type { WorkerBeat } from './worker-registry.ts';

/**
 * A new signal's values in the signals table's column order: signal_id, run_id, name, payload,
 * sent_by, sent_at, idempotency_key.
 */
export function signalValues(signal: NewSignal): (string | number | null)[] {
  return [
    signal.signalId,
    signal.runId,
    signal.name,
    signal.payload === undefined ? null : JSON.stringify(signal.payload),
    signal.sentBy,
    signal.sentAt,
    signal.idempotencyKey ?? null,
  ];
}

/**
 * Rows of the runs, events and signals tables as records, for every SQL backend: the column names
 * are the same; JSON columns hold the text written; integers may arrive as strings (pg's BIGINT);
 * booleans as 0/1 (SQLite) or true/false (PostgreSQL).
 */
export type Row = Record<string, unknown>;

function flag(value: unknown): boolean {
  return value === true || value === 1;
}

export function parseJson(text: unknown): unknown {
  return text == null ? undefined : JSON.parse(text as string);
}

export function optionalNumber(value: unknown): number | undefined {
  return value == null ? undefined : Number(value);
}

export function toRun(row: Row): RunRecord {
  const run: RunRecord = {
    runId: row.run_id as string,
    workflow: row.workflow as string,
    tenant: row.tenant as string,
    principal: row.principal as string,
    status: row.status as RunStatus,
    input: parseJson(row.input),
    priority: Number(row.priority),
    metadata: parseJson(row.metadata) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastSeq: Number(row.last_seq),
    headHash: (row.head_hash as string) || GENESIS_HASH,
    wakeGen: Number(row.wake_gen),
    cancelRequested: flag(row.cancel_requested),
  };
  if (flag(row.paused)) run.paused = true;
  const result = parseJson(row.result);
  if (result !== undefined) run.result = result;
  const error = parseJson(row.error);
  if (error !== undefined) run.error = error as SerializedError;
  if (row.parent_run_id != null) run.parentRunId = row.parent_run_id as string;
  if (row.idempotency_key != null) run.idempotencyKey = row.idempotency_key as string;
  const wakeAt = optionalNumber(row.wake_at);
  if (wakeAt !== undefined) run.wakeAt = wakeAt;
  const deadlineAt = optionalNumber(row.deadline_at);
  if (deadlineAt !== undefined) run.deadlineAt = deadlineAt;
  if (row.lease_owner != null) run.leaseOwner = row.lease_owner as string;
  const leaseExpiresAt = optionalNumber(row.lease_expires_at);
  if (leaseExpiresAt !== undefined) run.leaseExpiresAt = leaseExpiresAt;
  return run;
}

export function toEvent(row: Row): JournalEvent {
  const json = (field: string): unknown => {
    try {
      return JSON.parse(row[field] as string);
    } catch (cause) {
      throw new JournalCorruptError({ runId: row.run_id as string, seq: Number(row.seq), field, cause });
    }
  };
  // A stored row is trusted to pair its type with its payload: the chain's hash covers both.
  const event: JournalEventOf<JournalEventType> = {
    runId: row.run_id as string,
    seq: Number(row.seq),
    type: row.type as JournalEventType,
    at: row.at as string,
    actor: row.actor as string,
    onBehalfOf: json('on_behalf_of') as string[],
    payload: json('payload') as JournalEventPayloads[JournalEventType],
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
  };
  return event as JournalEvent;
}

export function toSignal(row: Row): SignalRecord {
  return {
    signalId: row.signal_id as string,
    runId: row.run_id as string,
    name: row.name as string,
    payload: parseJson(row.payload),
    sentBy: row.sent_by as string,
    sentAt: Number(row.sent_at),
    consumed: flag(row.consumed),
    ...(row.idempotency_key == null ? {} : { idempotencyKey: row.idempotency_key as string }),
  };
}

export function toWaiter(row: Row): PoolWaiter {
  return {
    holder: row.holder as string,
    runId: row.run_id == null ? undefined : (row.run_id as string),
    tenant: row.tenant as string,
    priority: Number(row.priority),
    tokens: Number(row.tokens),
    reason: row.reason as string,
    since: Number(row.since),
    retryAt: Number(row.retry_at),
  };
}

/** A row of the pools' usage query (the same columns in both stores) at `now`. */
export function toPoolUsage(row: Row, now: number): PoolUsage {
  const usage: PoolUsage = {
    pool: row.pool as string,
    inFlight: Number(row.in_flight),
    waiting: Number(row.waiting),
    oldestWaitMs: row.oldest_since == null ? 0 : Math.max(0, now - Number(row.oldest_since)),
    requestsInWindow: Number(row.live_requests),
    tokensInWindow: Number(row.live_tokens),
    granted: Number(row.granted),
    totalWaitMs: Number(row.total_wait_ms),
    maxWaitMs: Number(row.max_wait_ms),
    averageHoldMs: Math.round(Number(row.average_hold_ms)),
  };
  if (Number(row.paused_until) > now) usage.pausedUntil = Number(row.paused_until);
  return usage;
}

/** A vector record row; the vector column holds float32 bytes (a BLOB or a BYTEA). */
export function toVectorRecord(row: Row): VectorRecord {
  const bytes = row.vector as Uint8Array;
  const record: VectorRecord = {
    id: Number(row.id),
    collection: row.collection as string,
    tenant: row.tenant as string,
    partition: row.partition as string,
    key: row.key as string,
    space: row.space as string,
    // A copy: the bytes' offset in their buffer need not be aligned for floats.
    vector: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    text: row.text as string,
    data: JSON.parse(row.data as string) as unknown,
    createdAt: Number(row.created_at),
    sourceExists: flag(row.source_exists),
  };
  if (row.source_run_id != null) record.sourceRunId = row.source_run_id as string;
  if (row.source_seq != null) record.sourceSeq = Number(row.source_seq);
  if (row.expires_at != null) record.expiresAt = Number(row.expires_at);
  return record;
}

/** A worker's last heartbeat; its lists of names are JSON text (SQLite) or parsed JSON (PostgreSQL). */
export function toWorkerBeat(row: Row): WorkerBeat {
  return {
    workerId: String(row.worker_id),
    host: String(row.host),
    pid: Number(row.pid),
    startedAt: Number(row.started_at),
    concurrency: Number(row.concurrency),
    workflows: namesOf(row.workflows),
    runIds: namesOf(row.run_ids),
    beatAt: Number(row.beat_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The list of names a worker row keeps as JSON (anything else reads as none). */
function namesOf(json: unknown): string[] {
  const value: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
