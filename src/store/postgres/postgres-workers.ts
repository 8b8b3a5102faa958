import { namesOf, WORKER_MEMORY_MS, type WorkerBeat, type WorkerRegistry } from '../worker-registry.ts';
import type { Row } from './postgres-rows.ts';

export interface PostgresWorkersDeps {
  quotedSchema: string;
  /** One statement on a pooled connection; `idempotent` ones are tried again on a fresh connection. */
  query: (text: string, values: unknown[], options?: { idempotent?: boolean }) => Promise<Row[]>;
}

/** Workers' heartbeats in the `workers` table (migration 14). See worker-registry.ts. */
export class PostgresWorkers implements WorkerRegistry {
  readonly specificationVersion = 'v1' as const;
  readonly #s: string;
  readonly #deps: PostgresWorkersDeps;

  constructor(deps: PostgresWorkersDeps) {
    this.#s = deps.quotedSchema;
    this.#deps = deps;
  }

  async beat(beat: WorkerBeat): Promise<void> {
    // A beat replaces the last one whole: trying it again is harmless.
    await this.#deps.query(
      `INSERT INTO ${this.#s}.workers (worker_id, host, pid, started_at, concurrency, workflows, run_ids, beat_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
       ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         started_at = excluded.started_at, concurrency = excluded.concurrency, workflows = excluded.workflows,
         run_ids = excluded.run_ids, beat_at = excluded.beat_at, expires_at = excluded.expires_at`,
      [
        beat.workerId,
        beat.host,
        beat.pid,
        beat.startedAt,
        beat.concurrency,
        JSON.stringify(beat.workflows),
        JSON.stringify(beat.runIds),
        beat.beatAt,
        beat.expiresAt,
      ],
      { idempotent: true },
    );
    await this.#deps.query(
      `DELETE FROM ${this.#s}.workers WHERE expires_at < $1`,
      [beat.beatAt - WORKER_MEMORY_MS],
      { idempotent: true },
    );
  }

  async remove(workerId: string): Promise<void> {
    await this.#deps.query(`DELETE FROM ${this.#s}.workers WHERE worker_id = $1`, [workerId], {
      idempotent: true,
    });
  }

  async list(): Promise<WorkerBeat[]> {
    const rows = await this.#deps.query(
      `SELECT * FROM ${this.#s}.workers ORDER BY beat_at DESC, worker_id`,
      [],
      { idempotent: true },
    );
    return rows.map((row) => ({
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
