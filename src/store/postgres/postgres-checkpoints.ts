import type { CheckpointRecord, CheckpointStore } from '../checkpoints.ts';
import type { Row } from './postgres-rows.ts';

/** The PostgreSQL store's {@link CheckpointStore}: table `checkpoints` (migrations 3 and 9). */
export class PostgresCheckpoints implements CheckpointStore {
  readonly #query: (text: string, values: unknown[]) => Promise<Row[]>;
  readonly #s: string;

  constructor(query: (text: string, values: unknown[]) => Promise<Row[]>, quotedSchema: string) {
    this.#query = query;
    this.#s = quotedSchema;
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    await this.#query(
      `INSERT INTO ${this.#s}.checkpoints (run_id, seq, key_id, head_hash, signed_at, signature, status) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (run_id, seq, key_id) DO NOTHING`,
      [
        checkpoint.runId,
        checkpoint.seq,
        checkpoint.keyId,
        checkpoint.headHash,
        checkpoint.signedAt,
        checkpoint.signature,
        checkpoint.status ?? null,
      ],
    );
  }

  async listCheckpoints(runId: string, scope?: { tenant: string }): Promise<CheckpointRecord[]> {
    const rows = scope
      ? await this.#query(
          `SELECT c.* FROM ${this.#s}.checkpoints c JOIN ${this.#s}.runs r ON r.run_id = c.run_id
           WHERE c.run_id = $1 AND r.tenant = $2 ORDER BY c.seq, c.key_id`,
          [runId, scope.tenant],
        )
      : await this.#query(`SELECT * FROM ${this.#s}.checkpoints WHERE run_id = $1 ORDER BY seq, key_id`, [
          runId,
        ]);
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
