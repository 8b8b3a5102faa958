import type { DatabaseSync } from 'node:sqlite';
import type {
  NewVectorRecord,
  VectorRecord,
  VectorRecordScope,
  VectorRecordStore,
} from '../vector-records.ts';
import { toVectorRecord } from '../store-rows.ts';
import { sqliteLimit } from './sqlite-dialect.ts';
import { StatementCache } from './statement-cache.ts';

const COLUMNS = `v.*, CASE WHEN v.source_run_id IS NULL OR EXISTS (SELECT 1 FROM runs r WHERE r.run_id = v.source_run_id)
  THEN 1 ELSE 0 END AS source_exists`;
const IN_SCOPE = 'v.collection = ? AND v.tenant = ? AND v.partition = ?';

/** The SQLite store's {@link VectorRecordStore}: table `vector_records` (migration 2), vectors as float32 BLOBs. */
export class SqliteVectorRecords implements VectorRecordStore {
  readonly #db: DatabaseSync;
  readonly #statements: StatementCache;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = new StatementCache(db);
  }

  async putVectorRecord(record: NewVectorRecord): Promise<VectorRecord> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#statements
        .get('DELETE FROM vector_records AS v WHERE ' + IN_SCOPE + ' AND v.key = ?')
        .run(record.collection, record.tenant, record.partition, record.key);
      const inserted = this.#statements
        .get(
          `INSERT INTO vector_records (collection, tenant, partition, key, space, vector, text, data, source_run_id,
           source_seq, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        )
        .get(
          record.collection,
          record.tenant,
          record.partition,
          record.key,
          record.space,
          new Uint8Array(record.vector.buffer, record.vector.byteOffset, record.vector.byteLength),
          record.text,
          JSON.stringify(record.data ?? null),
          record.sourceRunId ?? null,
          record.sourceSeq ?? null,
          record.createdAt,
          record.expiresAt ?? null,
        )!;
      const row = this.#statements
        .get(`SELECT ${COLUMNS} FROM vector_records v WHERE v.id = ?`)
        .get(inserted.id as number)!;
      this.#db.exec('COMMIT');
      return toVectorRecord(row);
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async getVectorRecords(scope: VectorRecordScope, keys: readonly string[]): Promise<VectorRecord[]> {
    if (keys.length === 0) return [];
    const records: VectorRecord[] = [];
    // An explicit IN list (in batches) lets SQLite use the unique key index; json_each would scan the scope.
    for (let start = 0; start < keys.length; start += 64) {
      const batch = keys.slice(start, start + 64);
      const statement = this.#statements.get(
        `SELECT ${COLUMNS} FROM vector_records v WHERE ${IN_SCOPE} AND v.key IN (${batch.map(() => '?').join(', ')})`,
      );
      for (const row of statement.all(scope.collection, scope.tenant, scope.partition, ...batch))
        records.push(toVectorRecord(row));
    }
    return records.sort((a, b) => a.id - b.id);
  }

  async scanVectorRecords(
    scope: VectorRecordScope,
    options: { afterId?: number; limit?: number } = {},
  ): Promise<VectorRecord[]> {
    return this.#statements
      .get(
        `SELECT ${COLUMNS} FROM vector_records v WHERE ${IN_SCOPE} AND v.id > ? ORDER BY v.id LIMIT ${sqliteLimit('?')}`,
      )
      .all(scope.collection, scope.tenant, scope.partition, options.afterId ?? 0, options.limit ?? 10_000)
      .map(toVectorRecord);
  }

  async deleteVectorRecords(scope: VectorRecordScope, keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let start = 0; start < keys.length; start += 64) {
      const batch = keys.slice(start, start + 64);
      const result = this.#statements
        .get(
          `DELETE FROM vector_records AS v WHERE ${IN_SCOPE} AND v.key IN (${batch.map(() => '?').join(', ')})`,
        )
        .run(scope.collection, scope.tenant, scope.partition, ...batch);
      deleted += Number(result.changes);
    }
    return deleted;
  }

  async pruneVectorRecords(options: { now: number; collection?: string }): Promise<number> {
    const result = this.#statements
      .get(
        `DELETE FROM vector_records AS v WHERE (?1 IS NULL OR v.collection = ?1) AND (
         (v.expires_at IS NOT NULL AND v.expires_at <= ?2)
         OR (v.source_run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = v.source_run_id)))`,
      )
      .run(options.collection ?? null, options.now);
    return Number(result.changes);
  }
}
