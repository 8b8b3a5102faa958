import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CheckpointRecord, CheckpointStore } from '../checkpoints.ts';

/** The SQLite store's {@link CheckpointStore}: table `checkpoints` (migration 3). */
export class SqliteCheckpoints implements CheckpointStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async putCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    this.#statement(
      `INSERT INTO checkpoints (run_id, seq, key_id, head_hash, signed_at, signature) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, seq, key_id) DO NOTHING`,
    ).run(
      checkpoint.runId,
      checkpoint.seq,
      checkpoint.keyId,
      checkpoint.headHash,
      checkpoint.signedAt,
      checkpoint.signature,
    );
  }

  async listCheckpoints(runId: string, scope?: { tenant: string }): Promise<CheckpointRecord[]> {
    const rows = scope
      ? this.#statement(
          `SELECT c.* FROM checkpoints c JOIN runs r ON r.run_id = c.run_id
           WHERE c.run_id = ? AND r.tenant = ? ORDER BY c.seq, c.key_id`,
        ).all(runId, scope.tenant)
      : this.#statement('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq, key_id').all(runId);
    return rows.map((row) => ({
      runId: row.run_id as string,
      seq: Number(row.seq),
      headHash: row.head_hash as string,
      signedAt: row.signed_at as string,
      keyId: row.key_id as string,
      signature: row.signature as string,
    }));
  }
}
