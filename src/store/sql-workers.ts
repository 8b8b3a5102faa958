import type { ReadQueries } from './read-queries.ts';
import type { SqlDialect, SqlQuery } from './sql-dialect.ts';
import { toWorkerBeat, type Row } from './store-rows.ts';
import { WORKER_MEMORY_MS, type WorkerBeat, type WorkerRegistry } from './worker-registry.ts';

/**
 * The {@link WorkerRegistry} of both SQL stores (table `workers`, migration `workers`), over a
 * driver's `run`: one statement, its rows. Every statement here may be tried again (a beat replaces
 * the last one whole), which the PostgreSQL driver does on a fresh connection.
 */
export class SqlWorkers implements WorkerRegistry {
  readonly specificationVersion = 'v1' as const;
  readonly #reads: ReadQueries;
  readonly #run: (query: SqlQuery) => Promise<Row[]>;
  readonly #texts: { beat: string; forget: string; remove: string };

  constructor(dialect: SqlDialect, reads: ReadQueries, run: (query: SqlQuery) => Promise<Row[]>) {
    this.#reads = reads;
    this.#run = run;
    const workers = dialect.table('workers');
    const values = Array.from({ length: 9 }, (_, index) => dialect.placeholder(index + 1)).join(', ');
    this.#texts = {
      beat: `INSERT INTO ${workers} (worker_id, host, pid, started_at, concurrency, workflows, run_ids, beat_at, expires_at)
       VALUES (${values})
       ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         started_at = excluded.started_at, concurrency = excluded.concurrency, workflows = excluded.workflows,
         run_ids = excluded.run_ids, beat_at = excluded.beat_at, expires_at = excluded.expires_at`,
      forget: `DELETE FROM ${workers} WHERE expires_at < ${dialect.placeholder(1)}`,
      remove: `DELETE FROM ${workers} WHERE worker_id = ${dialect.placeholder(1)}`,
    };
  }

  async beat(beat: WorkerBeat): Promise<void> {
    await this.#run({
      text: this.#texts.beat,
      name: 'baton_beat_worker',
      values: [
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
    });
    await this.#run({
      text: this.#texts.forget,
      name: 'baton_forget_workers',
      values: [beat.beatAt - WORKER_MEMORY_MS],
    });
  }

  async remove(workerId: string): Promise<void> {
    await this.#run({ text: this.#texts.remove, name: 'baton_remove_worker', values: [workerId] });
  }

  async list(): Promise<WorkerBeat[]> {
    return (await this.#run(this.#reads.listWorkers())).map(toWorkerBeat);
  }
}
