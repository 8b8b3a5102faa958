import type { DatabaseSync } from 'node:sqlite';
import { namesOf, WORKER_MEMORY_MS, type WorkerBeat, type WorkerRegistry } from '../worker-registry.ts';
import { StatementCache } from './statement-cache.ts';

/** Workers' heartbeats in the `workers` table (migration 13). See worker-registry.ts. */
export class SqliteWorkers implements WorkerRegistry {
  readonly specificationVersion = 'v1' as const;
  readonly #statements: StatementCache;

  constructor(db: DatabaseSync) {
    this.#statements = new StatementCache(db);
  }

  async beat(beat: WorkerBeat): Promise<void> {
    this.#statements
      .get(
        `INSERT INTO workers (worker_id, host, pid, started_at, concurrency, workflows, run_ids, beat_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         started_at = excluded.started_at, concurrency = excluded.concurrency, workflows = excluded.workflows,
         run_ids = excluded.run_ids, beat_at = excluded.beat_at, expires_at = excluded.expires_at`,
      )
      .run(
        beat.workerId,
        beat.host,
        beat.pid,
        beat.startedAt,
        beat.concurrency,
        JSON.stringify(beat.workflows),
        JSON.stringify(beat.runIds),
        beat.beatAt,
        beat.expiresAt,
      );
    this.#statements.get('DELETE FROM workers WHERE expires_at < ?').run(beat.beatAt - WORKER_MEMORY_MS);
  }

  async remove(workerId: string): Promise<void> {
    this.#statements.get('DELETE FROM workers WHERE worker_id = ?').run(workerId);
  }

  async list(): Promise<WorkerBeat[]> {
    return this.#statements
      .get('SELECT * FROM workers ORDER BY beat_at DESC, worker_id')
      .all()
      .map((row) => ({
        workerId: String(row.worker_id),
        host: String(row.host),
        pid: Number(row.pid),
        startedAt: Number(row.started_at),
        concurrency: Number(row.concurrency),
        workflows: namesOf(row.workflows),
        runIds: namesOf(row.run_ids),
        beatAt: Number(row.beat_at),
        expiresAt: Number(row.expires_at),
      }));
  }
}
