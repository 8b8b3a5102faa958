import type { DatabaseSync } from 'node:sqlite';
import {
  CLOSING_PARTS,
  OPENING_PART,
  type NewStreamPart,
  type RunStreamStore,
  type StreamPartRecord,
} from '../run-streams.ts';
import { sqliteLimit } from './sqlite-dialect.ts';
import { StatementCache } from './statement-cache.ts';

type Row = Record<string, unknown>;

const CLOSING_LIST = CLOSING_PARTS.map((type) => `'${type}'`).join(', ');

/**
 * The type of a row that holds several parts of one run written in one batch: `op` is how many,
 * `id` the last one's number (the others are numbered before it), `at` the oldest one's time, and
 * `data` a JSON array of `[type, op, data, at − the row's at]`, one per part (an offset, mostly 0,
 * is shorter to write and faster to encode than a time). One row per run and batch, where a row
 * per part cost several µs each (a step's `step-started` marker, a model call's deltas): see
 * docs/decisions/0040-a-batch-of-stream-parts-in-one-row.md. Opening and closing parts of model
 * calls are never packed (interruptOpenCalls looks for them).
 */
const PACKED = '~packed';
/** At most this many parts in a packed row (a reader reads a page of 512 parts at most). */
const MAX_PACKED = 256;

/** One part of a packed row: type, op (or null), data, at as an offset from the row's. */
type PackedEntry = [string, number | null, Record<string, unknown>, number];

const UNPACKED = new Set([OPENING_PART, ...CLOSING_PARTS]);

/**
 * Runs' live stream parts in the `run_stream_parts` table (migration 11). Writes go through the
 * store's connection, each in a transaction of its own that commits without an fsync
 * (`synchronous = NORMAL` for that transaction: parts are ephemeral, so no fsync is spent on them;
 * the next journal commit's fsync covers them anyway). One connection, not a second one: a write by
 * another connection makes the journal's connection drop its page cache at its next transaction,
 * which cost a step more than the parts themselves. Readers in any process sharing the file tail
 * the table.
 *
 * Each run's head (its last part's number and its committed journal seq) is kept in memory between
 * batches, so a batch writes plain inserts: reading it in the insert cost 2.7× the insert itself with
 * 200 runs a batch (decision 0041). The memory is exact while this connection is the file's only
 * writer: `PRAGMA data_version`, read inside each write's transaction, moves when any other
 * connection commits, and then every head is read again from the tables. The store tells it of its
 * own journal commits (`journalCommitted`).
 */
export class SqliteRunStreams implements RunStreamStore {
  readonly specificationVersion = 'v1' as const;
  readonly #statements: StatementCache;
  readonly #relaxSync: boolean;
  /** Runs' heads as of this connection's last write; only runs with parts written since the cache last emptied. */
  readonly #heads = new Map<string, Head>();
  /** `PRAGMA data_version` when `#heads` was last known right (it moves when another connection commits). */
  #dataVersion = -1;

  /** `relaxSync`: the connection fsyncs every commit (synchronous = FULL, WAL); parts' commits skip it. */
  constructor(db: DatabaseSync, options: { relaxSync: boolean }) {
    this.#statements = new StatementCache(db);
    this.#relaxSync = options.relaxSync;
  }

  #write<T>(fn: (statements: StatementCache) => T): T {
    const statements = this.#statements;
    try {
      return statements.writeTransaction(
        () => {
          // Under the write lock: nobody else can commit until this transaction ends.
          const version = Number(statements.get('PRAGMA data_version').get()!.data_version);
          if (version !== this.#dataVersion) {
            this.#heads.clear();
            this.#dataVersion = version;
          }
          return fn(statements);
        },
        { relaxSync: this.#relaxSync },
      );
    } catch (error) {
      // The heads advanced in memory by the rolled-back inserts are wrong now.
      this.#heads.clear();
      throw error;
    }
  }

  async appendParts(parts: readonly NewStreamPart[]): Promise<void> {
    if (parts.length === 0) return;
    // Each run's parts of the batch, in order (a batch usually holds one or a few runs).
    const byRun = new Map<string, NewStreamPart[]>();
    for (const part of parts) {
      const list = byRun.get(part.runId);
      if (list) list.push(part);
      else byRun.set(part.runId, [part]);
    }
    this.#write((statements) => {
      for (const [runId, list] of byRun) appendRunParts(statements, this.#head(statements, runId), list);
    });
  }

  /** The run's head, from memory or (the first time, or after another connection wrote) from the tables; in a write. */
  #head(statements: StatementCache, runId: string): Head {
    let head = this.#heads.get(runId);
    if (head) return head;
    // Bounded: a worker's runs in flight are far fewer; past it, the heads are read again.
    if (this.#heads.size >= MAX_HEADS) this.#heads.clear();
    head = headOf(statements, runId);
    this.#heads.set(runId, head);
    return head;
  }

  /**
   * Told by the store after it commits a run's events on this connection: parts written from now
   * on follow `lastSeq`. A run that left `running` is forgotten (its next activation may be elsewhere).
   */
  journalCommitted(runId: string, lastSeq: number, running: boolean): void {
    const head = this.#heads.get(runId);
    if (!head) return;
    if (running) head.afterSeq = lastSeq;
    else this.#heads.delete(runId);
  }

  /** Forgets a run's head (its journal changed some other way than a commit of its worker). */
  forget(runId: string): void {
    this.#heads.delete(runId);
  }

  async readParts(runId: string, afterId: number, limit: number): Promise<StreamPartRecord[]> {
    // Every row holds at least one part past `afterId`, so `limit` rows hold enough; packed rows
    // hold many, so rows are read only until there are.
    const rows = this.#statements
      .get(
        `SELECT run_id, id, after_seq, type, op, data, at FROM run_stream_parts
         WHERE run_id = ? AND id > ? ORDER BY id LIMIT ${sqliteLimit('?')}`,
      )
      .iterate(runId, afterId, limit);
    const parts: StreamPartRecord[] = [];
    for (const row of rows) {
      if (row.type === PACKED) unpack(row, afterId, parts);
      else parts.push(toPart(row));
      if (parts.length >= limit) break;
    }
    if (parts.length > limit) parts.length = limit;
    return parts;
  }

  async partBounds(runId: string): Promise<{ first: number; last: number }> {
    const row = this.#statements
      .get(
        `SELECT COALESCE((SELECT CASE WHEN type = '${PACKED}' THEN id - op + 1 ELSE id END
             FROM run_stream_parts WHERE run_id = ?1 ORDER BY id LIMIT 1), 0) AS first,
           COALESCE((SELECT MAX(id) FROM run_stream_parts WHERE run_id = ?1), 0) AS last`,
      )
      .get(runId)!;
    return { first: Number(row.first), last: Number(row.last) };
  }

  async interruptOpenCalls(
    runId: string,
    now: number,
    reason: string,
  ): Promise<StreamPartRecord | undefined> {
    // Most runs have no call left open: a read says so without taking the write lock (every
    // worker asks this of each run it starts writing to).
    if (openCalls(this.#statements, runId).length === 0) return undefined;
    return this.#write((statements) => {
      const open = openCalls(statements, runId);
      if (open.length === 0) return undefined;
      const head = this.#head(statements, runId);
      head.id++;
      const part: StreamPartRecord = {
        runId,
        id: head.id,
        afterSeq: head.afterSeq,
        type: 'interrupted',
        data: { ops: open, reason },
        at: now,
      };
      statements
        .get(
          `INSERT INTO run_stream_parts (run_id, id, after_seq, type, op, data, at) VALUES (?, ?, ?, ?, NULL, ?, ?)`,
        )
        .run(runId, part.id, part.afterSeq, part.type, JSON.stringify(part.data), now);
      return part;
    });
  }

  async pruneParts(options: { olderThan: number; maxPartsPerRun: number }): Promise<number> {
    const { olderThan, maxPartsPerRun } = options;
    return this.#write((statements) => {
      const result = statements
        .get(
          `DELETE FROM run_stream_parts AS p WHERE p.type <> '${PACKED}' AND EXISTS (
             SELECT 1 FROM run_stream_parts l WHERE l.run_id = p.run_id
             GROUP BY l.run_id HAVING p.id < MAX(l.id) AND (p.at < ? OR p.id <= MAX(l.id) - ?))`,
        )
        .run(olderThan, maxPartsPerRun);
      let deleted = Number(result.changes);
      // A packed row (its `at` is its oldest part's) loses the parts at its front that are due.
      const packed = statements
        .get(
          `SELECT * FROM (
             SELECT p.run_id, p.id, p.op, p.data, p.at,
               (SELECT MAX(l.id) FROM run_stream_parts l WHERE l.run_id = p.run_id) AS last
             FROM run_stream_parts p WHERE p.type = '${PACKED}')
           WHERE at < ? OR id - op + 1 <= last - ?`,
        )
        .all(olderThan, maxPartsPerRun);
      for (const row of packed) {
        const entries = JSON.parse(String(row.data)) as PackedEntry[];
        const rowAt = Number(row.at);
        const last = Number(row.last);
        const firstId = Number(row.id) - entries.length + 1;
        let drop = 0;
        while (drop < entries.length) {
          const id = firstId + drop;
          if (id >= last || (rowAt + entries[drop]![3] >= olderThan && id > last - maxPartsPerRun)) break;
          drop++;
        }
        if (drop === 0) continue;
        deleted += drop;
        if (drop === entries.length) {
          statements
            .get(`DELETE FROM run_stream_parts WHERE run_id = ? AND id = ?`)
            .run(String(row.run_id), Number(row.id));
        } else {
          const kept = entries.slice(drop);
          const keptAt = rowAt + Math.min(...kept.map((entry) => entry[3]));
          for (const entry of kept) entry[3] += rowAt - keptAt;
          statements
            .get(`UPDATE run_stream_parts SET op = ?, data = ?, at = ? WHERE run_id = ? AND id = ?`)
            .run(kept.length, JSON.stringify(kept), keptAt, String(row.run_id), Number(row.id));
        }
      }
      return deleted;
    });
  }
}

/** The ops of a run's model calls that started and have no closing part. */
function openCalls(statements: StatementCache, runId: string): number[] {
  return statements
    .get(
      `SELECT DISTINCT s.op FROM run_stream_parts s WHERE s.run_id = ? AND s.type = '${OPENING_PART}'
       AND NOT EXISTS (SELECT 1 FROM run_stream_parts c WHERE c.run_id = s.run_id AND c.id > s.id
         AND c.type IN (${CLOSING_LIST}) AND (c.op = s.op OR c.type = 'interrupted'))
       ORDER BY s.op`,
    )
    .all(runId)
    .map((row) => Number(row.op));
}

/** A run's last part number, and the journal seq its next parts follow. */
interface Head {
  id: number;
  afterSeq: number;
}

/** Runs whose heads are kept in memory at most (a worker writes to its runs in flight). */
const MAX_HEADS = 10_000;

function headOf(statements: StatementCache, runId: string): Head {
  const row = statements
    .get(
      `SELECT (SELECT COALESCE(MAX(id), 0) FROM run_stream_parts WHERE run_id = ?1) AS id,
              (SELECT COALESCE(last_seq, 0) FROM runs WHERE run_id = ?1) AS after_seq`,
    )
    .get(runId)!;
  return { id: Number(row.id), afterSeq: Number(row.after_seq ?? 0) };
}

/**
 * Writes one run's parts of a batch after its `head`, which it advances: each stretch of parts that
 * may be packed as one row, each other part as a row of its own.
 */
function appendRunParts(statements: StatementCache, head: Head, parts: readonly NewStreamPart[]): void {
  const insert = statements.get(
    `INSERT INTO run_stream_parts (run_id, id, after_seq, type, op, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  let index = 0;
  while (index < parts.length) {
    const part = parts[index]!;
    let end = index + 1;
    if (!UNPACKED.has(part.type))
      while (end < parts.length && end - index < MAX_PACKED && !UNPACKED.has(parts[end]!.type)) end++;
    const count = end - index;
    let type = part.type;
    let op = part.op ?? null;
    let data: string;
    let at = part.at;
    if (count === 1) {
      data = JSON.stringify(part.data);
    } else {
      type = PACKED;
      op = count;
      for (let next = index + 1; next < end; next++) if (parts[next]!.at < at) at = parts[next]!.at;
      const entries: PackedEntry[] = new Array(count);
      for (let next = index; next < end; next++) {
        const { type: partType, op: partOp, data: partData, at: partAt } = parts[next]!;
        entries[next - index] = [partType, partOp ?? null, partData, partAt - at];
      }
      data = JSON.stringify(entries);
    }
    head.id += count;
    insert.run(part.runId, head.id, head.afterSeq, type, op, data, at);
    index = end;
  }
}

/** Adds the parts of a packed row numbered after `afterId` to `into`. */
function unpack(row: Row, afterId: number, into: StreamPartRecord[]): void {
  const entries = JSON.parse(String(row.data)) as PackedEntry[];
  const runId = String(row.run_id);
  const afterSeq = Number(row.after_seq);
  const rowAt = Number(row.at);
  const firstId = Number(row.id) - entries.length + 1;
  for (let index = Math.max(0, afterId + 1 - firstId); index < entries.length; index++) {
    const [type, op, data, offset] = entries[index]!;
    const at = rowAt + offset;
    into.push(
      op === null
        ? { runId, id: firstId + index, afterSeq, type, data, at }
        : { runId, id: firstId + index, afterSeq, type, op, data, at },
    );
  }
}

function toPart(row: Row): StreamPartRecord {
  return {
    runId: String(row.run_id),
    id: Number(row.id),
    afterSeq: Number(row.after_seq),
    type: String(row.type),
    ...(row.op === null || row.op === undefined ? {} : { op: Number(row.op) }),
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
    at: Number(row.at),
  };
}
