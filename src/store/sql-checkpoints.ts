import type { CheckpointRecord, CheckpointStore } from './checkpoints.ts';
import type { ReadQueries } from './read-queries.ts';
import type { SqlDialect, SqlQuery } from './sql-dialect.ts';
import type { Row } from './store-rows.ts';

/**
 * The {@link CheckpointStore} of both SQL stores (table `checkpoints`, migrations
 * `signed-checkpoints` and `checkpoint-status`), over a driver's `run`: one statement, its rows.
 */
export class SqlCheckpoints implements CheckpointStore {
  readonly #reads: ReadQueries;
  readonly #run: (query: SqlQuery) => Promise<Row[]>;
  readonly #insert: string;

  constructor(dialect: SqlDialect, reads: ReadQueries, run: (query: SqlQuery) => Promise<Row[]>) {
    this.#reads = reads;
    this.#run = run;
    const values = Array.from({ length: 7 }, (_, index) => dialect.placeholder(index + 1)).join(', ');
    this.#insert = `INSERT INTO ${dialect.table('checkpoints')} (run_id, seq, key_id, head_hash, signed_at, signature, status)
      VALUES (${values}) ON CONFLICT (run_id, seq, key_id) DO NOTHING`;
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    await this.#run({
      text: this.#insert,
      name: 'baton_put_checkpoint',
      values: [
        checkpoint.runId,
        checkpoint.seq,
        checkpoint.keyId,
        checkpoint.headHash,
        checkpoint.signedAt,
        checkpoint.signature,
        checkpoint.status ?? null,
      ],
    });
  }

  async listCheckpoints(runId: string, scope?: { tenant: string }): Promise<CheckpointRecord[]> {
    const rows = await this.#run(this.#reads.listCheckpoints(runId, scope));
    return rows.map((row) => ({
      runId: row.run_id as string,
      seq: Number(row.seq),
      headHash: row.head_hash as string,
      signedAt: row.signed_at as string,
      keyId: row.key_id as string,
      signature: row.signature as string,
      ...(typeof row.status === 'string' ? { status: row.status } : {}),
    }));
  }
}
