import type { DatabaseSync } from 'node:sqlite';
import type { CheckpointRecord, CheckpointStore } from '../checkpoints.ts';
import { StatementCache } from './statement-cache.ts';

/** The SQLite store's {@link CheckpointStore}: table `checkpoints` (migrations 3 and 8). */
export class SqliteCheckpoints implements CheckpointStore {
  readonly #db: DatabaseSync;
  readonly #statements: StatementCache;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = new StatementCache(db);
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    this.#statements
      .get(
        `INSERT INTO checkpoints (run_id, seq, key_id, head_hash, signed_at, signature, status) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, seq, key_id) DO NOTHING`,
      )
      .run(
        checkpoint.runId,
        checkpoint.seq,
        checkpoint.keyId,
        checkpoint.headHash,
        checkpoint.signedAt,
        checkpoint.signature,
        checkpoint.status ?? null,
      );
  }

  async listCheckpoints(runId: string, scope?: { tenant: string }): Promise<CheckpointRecord[]> {
    const rows = scope
      ? this.#statements
          .get(
            `SELECT c.* FROM checkpoints c JOIN runs r ON r.run_id = c.run_id
           WHERE c.run_id = ? AND r.tenant = ? ORDER BY c.seq, c.key_id`,
          )
          .all(runId, scope.tenant)
      : this.#statements.get('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq, key_id').all(runId);
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
