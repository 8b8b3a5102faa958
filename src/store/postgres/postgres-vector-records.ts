import type pg from 'pg';
import type {
  NewVectorRecord,
  VectorRecord,
  VectorRecordScope,
  VectorRecordStore,
} from '../vector-records.ts';
import type { Row } from './postgres-rows.ts';
import { toVectorRecord } from '../store-rows.ts';

type Client = pg.PoolClient;

export interface PostgresVectorRecordsDeps {
  quotedSchema: string;
  /** The schema's name: writes to one scope lock `<schema>.vector_records` + the scope. */
  schema: string;
  /** One statement on a pooled connection; `idempotent` reads are tried again on a fresh connection. */
  query: (text: string, values: unknown[], options?: { idempotent?: boolean }) => Promise<Row[]>;
  /** Runs `fn` in a transaction (again after a deadlock). */
  transaction: <T>(fn: (client: Client) => Promise<T>) => Promise<T>;
}

const COLUMNS = `id, collection, tenant, partition, key, space, vector, text, data, source_run_id, source_seq,
  created_at, expires_at`;

/**
 * The PostgreSQL store's {@link VectorRecordStore}: table `vector_records` (migration 6), vectors
 * as float32 bytes in BYTEA, data as the JSON text written.
 *
 * Ids come from a sequence, which hands out numbers in call order, not commit order: a reader
 * that scans by `id > watermark` (SyncedIndex) could see id 11 committed while id 10 is still in
 * flight, and skip 10 forever. So every write to a scope first takes a transaction-scoped
 * advisory lock on that scope, and only then draws its id: within a scope, ids are drawn in the
 * order writes commit (the lock is released after the commit is visible), as in SQLite, whose
 * writes are serial. The lock also orders two writers of one key, which would otherwise both
 * delete nothing and then collide on the unique key.
 */
export class PostgresVectorRecords implements VectorRecordStore {
  readonly #s: string;
  readonly #deps: PostgresVectorRecordsDeps;
  readonly #sourceExists: string;
  readonly #inScope = 'collection = $1 AND tenant = $2 AND partition = $3';

  constructor(deps: PostgresVectorRecordsDeps) {
    this.#s = deps.quotedSchema;
    this.#deps = deps;
    this.#sourceExists = `(source_run_id IS NULL OR EXISTS (
      SELECT 1 FROM ${this.#s}.runs r WHERE r.run_id = source_run_id)) AS source_exists`;
  }

  async putVectorRecord(record: NewVectorRecord): Promise<VectorRecord> {
    return this.#deps.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
        `${this.#deps.schema}.vector_records`,
        JSON.stringify([record.collection, record.tenant, record.partition]),
      ]);
      await client.query(`DELETE FROM ${this.#s}.vector_records WHERE ${this.#inScope} AND key = $4`, [
        record.collection,
        record.tenant,
        record.partition,
        record.key,
      ]);
      const inserted = await client.query<Row>(
        `WITH inserted AS (
           INSERT INTO ${this.#s}.vector_records (collection, tenant, partition, key, space, vector, text, data,
             source_run_id, source_seq, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           RETURNING ${COLUMNS}
         )
         SELECT ${COLUMNS}, ${this.#sourceExists} FROM inserted`,
        [
          record.collection,
          record.tenant,
          record.partition,
          record.key,
          record.space,
          Buffer.from(record.vector.buffer, record.vector.byteOffset, record.vector.byteLength),
          record.text,
          JSON.stringify(record.data ?? null),
          record.sourceRunId ?? null,
          record.sourceSeq ?? null,
          record.createdAt,
          record.expiresAt ?? null,
        ],
      );
      return toVectorRecord(inserted.rows[0]!);
    });
  }

  async getVectorRecords(scope: VectorRecordScope, keys: readonly string[]): Promise<VectorRecord[]> {
    if (keys.length === 0) return [];
    const rows = await this.#deps.query(
      `SELECT ${COLUMNS}, ${this.#sourceExists} FROM ${this.#s}.vector_records
       WHERE ${this.#inScope} AND key = ANY($4::text[]) ORDER BY id`,
      [scope.collection, scope.tenant, scope.partition, [...keys]],
      { idempotent: true },
    );
    return rows.map(toVectorRecord);
  }

  async scanVectorRecords(
    scope: VectorRecordScope,
    options: { afterId?: number; limit?: number } = {},
  ): Promise<VectorRecord[]> {
    const rows = await this.#deps.query(
      `SELECT ${COLUMNS}, ${this.#sourceExists} FROM ${this.#s}.vector_records
       WHERE ${this.#inScope} AND id > $4 ORDER BY id LIMIT $5`,
      [scope.collection, scope.tenant, scope.partition, options.afterId ?? 0, options.limit ?? 10_000],
      { idempotent: true },
    );
    return rows.map(toVectorRecord);
  }

  async deleteVectorRecords(scope: VectorRecordScope, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = await this.#deps.query(
      `WITH deleted AS (
         DELETE FROM ${this.#s}.vector_records WHERE ${this.#inScope} AND key = ANY($4::text[]) RETURNING 1
       )
       SELECT count(*) AS deleted FROM deleted`,
      [scope.collection, scope.tenant, scope.partition, [...keys]],
    );
    return Number(rows[0]?.deleted ?? 0);
  }

  async pruneVectorRecords(options: { now: number; collection?: string }): Promise<number> {
    const rows = await this.#deps.query(
      `WITH deleted AS (
         DELETE FROM ${this.#s}.vector_records v WHERE ($1::text IS NULL OR v.collection = $1) AND (
           (v.expires_at IS NOT NULL AND v.expires_at <= $2)
           OR (v.source_run_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM ${this.#s}.runs r WHERE r.run_id = v.source_run_id)))
         RETURNING 1
       )
       SELECT count(*) AS deleted FROM deleted`,
      [options.collection ?? null, options.now],
    );
    return Number(rows[0]?.deleted ?? 0);
  }
}
