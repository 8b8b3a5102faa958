import type { DatabaseSync } from 'node:sqlite';
import {
  CLOSING_PARTS,
  OPENING_PART,
  type NewStreamPart,
  type RunStreamStore,
  type StreamPartRecord,
} from '../run-streams.ts';
import { StatementCache } from './statement-cache.ts';

type Row = Record<string, unknown>;

const CLOSING_LIST = CLOSING_PARTS.map((type) => `'${type}'`).join(', ');

/**
 * Runs' live stream parts in the `run_stream_parts` table (migration 11). Writes go through the
 * store's connection, each in a transaction of its own that commits without an fsync
 * (`synchronous = NORMAL` for that transaction: parts are ephemeral, so no fsync is spent on them;
 * the next journal commit's fsync covers them anyway). One connection, not a second one: a write by
 * another connection makes the journal's connection drop its page cache at its next transaction,
 * which cost a step more than the parts themselves. Readers in any process sharing the file tail
 * the table.
 */
export class SqliteRunStreams implements RunStreamStore {
  readonly specificationVersion = 'v1' as const;
  readonly #db: DatabaseSync;
  readonly #statements: StatementCache;
  readonly #relaxSync: boolean;

  /** `relaxSync`: the connection fsyncs every commit (synchronous = FULL, WAL); parts' commits skip it. */
  constructor(db: DatabaseSync, options: { relaxSync: boolean }) {
    this.#db = db;
    this.#statements = new StatementCache(db);
    this.#relaxSync = options.relaxSync;
  }

  #write<T>(fn: (statements: StatementCache) => T): T {
    const statements = this.#statements;
    if (this.#relaxSync) statements.get('PRAGMA synchronous = NORMAL').run();
    try {
      statements.get('BEGIN IMMEDIATE').run();
      try {
        const result = fn(statements);
        statements.get('COMMIT').run();
        return result;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      if (this.#relaxSync) statements.get('PRAGMA synchronous = FULL').run();
    }
  }

  async appendParts(parts: readonly NewStreamPart[]): Promise<void> {
    if (parts.length === 0) return;
    this.#write((statements) => {
      // A run's first part of the batch numbers itself after the run's last part and follows the
      // run's committed head, in its own statement; the run's other parts of the batch follow it.
      const first = statements.get(
        `INSERT INTO run_stream_parts (run_id, id, after_seq, type, op, data, at)
         SELECT ?1, COALESCE((SELECT MAX(id) FROM run_stream_parts WHERE run_id = ?1), 0) + 1,
           COALESCE((SELECT last_seq FROM runs WHERE run_id = ?1), 0), ?2, ?3, ?4, ?5
         RETURNING id, after_seq`,
      );
      const next = statements.get(
        `INSERT INTO run_stream_parts (run_id, id, after_seq, type, op, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const heads = new Map<string, { id: number; afterSeq: number }>();
      for (const part of parts) {
        const op = part.op ?? null;
        const data = JSON.stringify(part.data);
        const head = heads.get(part.runId);
        if (head) {
          head.id++;
          next.run(part.runId, head.id, head.afterSeq, part.type, op, data, part.at);
        } else {
          const row = first.get(part.runId, part.type, op, data, part.at)!;
          heads.set(part.runId, { id: Number(row.id), afterSeq: Number(row.after_seq) });
        }
      }
    });
  }

  async readParts(runId: string, afterId: number, limit: number): Promise<StreamPartRecord[]> {
    return this.#statements
      .get(
        `SELECT run_id, id, after_seq, type, op, data, at FROM run_stream_parts
         WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .all(runId, afterId, limit)
      .map(toPart);
  }

  async partBounds(runId: string): Promise<{ first: number; last: number }> {
    const row = this.#statements
      .get(
        `SELECT COALESCE(MIN(id), 0) AS first, COALESCE(MAX(id), 0) AS last FROM run_stream_parts WHERE run_id = ?`,
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
      const head = headOf(statements, runId);
      const part: StreamPartRecord = {
        runId,
        id: head.id + 1,
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
    return this.#write((statements) => {
      const result = statements
        .get(
          `DELETE FROM run_stream_parts AS p WHERE EXISTS (
             SELECT 1 FROM run_stream_parts l WHERE l.run_id = p.run_id
             GROUP BY l.run_id HAVING p.id < MAX(l.id) AND (p.at < ? OR p.id <= MAX(l.id) - ?))`,
        )
        .run(options.olderThan, options.maxPartsPerRun);
      return Number(result.changes);
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

function headOf(statements: StatementCache, runId: string): { id: number; afterSeq: number } {
  const row = statements
    .get(
      `SELECT (SELECT COALESCE(MAX(id), 0) FROM run_stream_parts WHERE run_id = ?1) AS id,
              (SELECT COALESCE(last_seq, 0) FROM runs WHERE run_id = ?1) AS after_seq`,
    )
    .get(runId)!;
  return { id: Number(row.id), afterSeq: Number(row.after_seq ?? 0) };
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
