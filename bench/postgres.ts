import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Baton } from '../src/baton.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { interleave, measurement, microsSince, type Figure } from './harness.ts';
import { sequentialOnPostgres, tenStepsOnPostgres } from './postgres-workflows.ts';
import { RawPostgres } from './raw-postgres.ts';
import { LineProcess, PostgresCpuMeter } from './worker-processes.ts';

/** The server: BATON_BENCH_PG_URL, else the tests' BATON_TEST_PG_URL, else the local one. A fresh database is made on it. */
const SERVER_URL =
  process.env.BATON_BENCH_PG_URL ||
  process.env.BATON_TEST_PG_URL ||
  'postgres://postgres@127.0.0.1:5432/postgres';
const SEQUENTIAL_STEPS = 500;
const RUNS = 200;
const STEPS = 10;
const PROCESS_COUNTS = [1, 2, 4] as const;
const WORKER_SCRIPT = fileURLToPath(new URL('./postgres-worker.ts', import.meta.url));

/**
 * (d) PostgreSQL: the cost of one durable step against one raw INSERT (autocommit) on the same
 * server, and the throughput of 200 concurrent 10-step runs on 1, 2 and 4 worker processes that
 * share the database (claims with SKIP LOCKED, wake-ups by NOTIFY, group commit in each process).
 */
export const postgresFigure: Figure = {
  id: 'postgres',
  title: `(d) PostgreSQL: a durable step vs a raw INSERT, and ${RUNS}×${STEPS}-step throughput on 1, 2, 4 worker processes`,
  async run(bench) {
    const database = await BenchDatabase.create();
    const store = await PostgresStore.open({ url: database.url, poolSize: 4 });
    const client = await Baton.open({ store, workflows: [tenStepsOnPostgres], worker: false });
    const sequential = await Baton.open({
      store,
      workflows: [sequentialOnPostgres],
      worker: { concurrency: 1 },
    });
    const raw = await RawPostgres.open(database.url);
    const groups = new Map<number, WorkerProcess[]>();
    const batches = new Map<number, { writes: number; transactions: number }>();
    try {
      for (const count of PROCESS_COUNTS) {
        groups.set(
          count,
          await Promise.all(Array.from({ length: count }, () => WorkerProcess.start(database.url))),
        );
      }
      // One run first: its journal gives the baseline the very rows Baton writes.
      const template = await sequential.start(sequentialOnPostgres, { steps: SEQUENTIAL_STEPS });
      await template.result();
      const rows = (await template.history()).filter((event) => event.type === 'step.completed');

      async function throughput(count: number): Promise<number> {
        for (let index = 0; index < RUNS; index++) await client.start(tenStepsOnPostgres, { steps: STEPS });
        const workers = groups.get(count)!;
        const start = performance.now();
        // Every configuration runs all the runs at once: the processes share the concurrency.
        for (const worker of workers) worker.send(`go ${Math.ceil(RUNS / count)}`);
        await database.untilNoOpenRuns();
        const seconds = (performance.now() - start) / 1000;
        const stats = await Promise.all(workers.map((worker) => worker.stop()));
        batches.set(count, {
          writes: stats.reduce((sum, stat) => sum + stat.writes, 0),
          transactions: stats.reduce((sum, stat) => sum + stat.transactions, 0),
        });
        return (RUNS * STEPS) / seconds;
      }

      // CPU per row or step beside wall time: this process (client) and the database's backends.
      const cpu = { raw: [] as Cpu[], step: [] as Cpu[] };
      async function metered(into: Cpu[], count: number, fn: () => Promise<number>): Promise<number> {
        const meter = new PostgresCpuMeter(database.url);
        await meter.start();
        const client = process.cpuUsage();
        const value = await fn();
        const used = process.cpuUsage(client);
        const server = await meter.stop();
        into.push({
          client: (used.user + used.system) / count,
          server: meter.local ? server.backendMicros / count : Number.NaN,
        });
        return value;
      }
      const samples = await interleave(
        {
          raw: () => metered(cpu.raw, rows.length, () => raw.insertEach(rows)),
          step: () =>
            metered(cpu.step, SEQUENTIAL_STEPS, async () => {
              const start = performance.now();
              const run = await sequential.start(sequentialOnPostgres, { steps: SEQUENTIAL_STEPS });
              await run.result();
              return microsSince(start) / SEQUENTIAL_STEPS;
            }),
          processes1: () => throughput(1),
          processes2: () => throughput(2),
          processes4: () => throughput(4),
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const rawInsert = measurement('raw INSERT, autocommit, one connection', 'µs/row', samples.raw);
      const step = measurement(
        `Baton durable step (ctx.step), ${SEQUENTIAL_STEPS} in a row`,
        'µs/step',
        samples.step,
      );
      const cpuRows = [
        measurement(
          '  CPU per raw row: client',
          'µs',
          cpu.raw.map((sample) => sample.client),
        ),
        measurement(
          '  CPU per raw row: PostgreSQL backend',
          'µs',
          cpu.raw.map((sample) => sample.server),
        ),
        measurement(
          '  CPU per Baton step: client (engine + driver)',
          'µs',
          cpu.step.map((sample) => sample.client),
        ),
        measurement(
          '  CPU per Baton step: PostgreSQL backends',
          'µs',
          cpu.step.map((sample) => sample.server),
        ),
      ];
      const perProcess = [
        measurement(`Baton, ${RUNS}×${STEPS} steps on 1 worker process`, 'steps/s', samples.processes1),
        measurement(`Baton, ${RUNS}×${STEPS} steps on 2 worker processes`, 'steps/s', samples.processes2),
        measurement(`Baton, ${RUNS}×${STEPS} steps on 4 worker processes`, 'steps/s', samples.processes4),
      ];
      const server = await database.serverFacts();
      const rowUpdates = await database.runRowUpdates();
      return {
        measurements: [rawInsert, step, ...cpuRows, ...perProcess],
        ratio: {
          label: 'Baton step / raw INSERT',
          value: step.value / rawInsert.value,
          aim: { atMost: 1.5 },
        },
        notes: [
          `Raw INSERT rate ${Math.round(1e6 / rawInsert.value).toLocaleString('en-US')} rows/s; ` +
            `4 processes reach ${(perProcess[2]!.value / (1e6 / rawInsert.value)).toFixed(1)}× that in steps/s.`,
          ...PROCESS_COUNTS.map((count) => {
            const batch = batches.get(count)!;
            return `${count} process(es), last repeat: ${(batch.writes / Math.max(1, batch.transactions)).toFixed(1)} writes per commit transaction.`;
          }),
          `Wall time minus CPU is waiting (the WAL flush, the scheduler): step ${step.value.toFixed(0)} µs = ` +
            `${(cpuRows[2]!.value + cpuRows[3]!.value).toFixed(0)} µs CPU + the rest; raw ${rawInsert.value.toFixed(0)} µs = ` +
            `${(cpuRows[0]!.value + cpuRows[1]!.value).toFixed(0)} µs CPU + the rest. Load average ${loadavg()[0]!.toFixed(1)} on ${navigator.hardwareConcurrency} cores.`,
          `Throughput time runs from "go" to the last run completed; creating the runs is not counted.`,
          `Run rows updated in place (HOT, no index writes): ${rowUpdates.inPlace.toLocaleString('en-US')} of ${rowUpdates.updates.toLocaleString('en-US')} updates (${((100 * rowUpdates.inPlace) / Math.max(1, rowUpdates.updates)).toFixed(0)}%).`,
          `${server}; ${process.env.BATON_BENCH_PG_URL ? 'BATON_BENCH_PG_URL' : 'server'} ${new URL(SERVER_URL).host}; client cores: ${navigator.hardwareConcurrency}.`,
        ],
      };
    } finally {
      for (const workers of groups.values()) for (const worker of workers) worker.kill();
      await sequential.close();
      await client.close();
      await raw.close();
      await store.close();
      await database.drop();
    }
  },
};

interface Cpu {
  client: number;
  server: number;
}

/** A fresh database `baton_bench_<random>` on the bench server, dropped at the end. */
export class BenchDatabase {
  readonly url: string;
  readonly #name: string;
  readonly #client: pg.Client;

  private constructor(name: string, url: string, client: pg.Client) {
    this.#name = name;
    this.url = url;
    this.#client = client;
  }

  static async create(): Promise<BenchDatabase> {
    const name = `baton_bench_${randomBytes(6).toString('hex')}`;
    await withServer((admin) => admin.query(`CREATE DATABASE ${name}`));
    const url = new URL(SERVER_URL);
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    return new BenchDatabase(name, url.toString(), client);
  }

  async untilNoOpenRuns(): Promise<void> {
    for (;;) {
      const result = await this.#client.query<{ open: string }>(
        `SELECT count(*) AS open FROM baton.runs WHERE status IN ('pending', 'running', 'waiting')`,
      );
      if (Number(result.rows[0]!.open) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Transactions committed in this database so far (pg_stat_database; it lags by up to a second). */
  async commits(): Promise<number> {
    const result = await this.#client.query<{ commits: string }>(
      `SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()`,
    );
    return Number(result.rows[0]?.commits ?? 0);
  }

  /** Updates of `baton.runs` rows so far, and how many were in place (HOT: no index entries written). */
  async runRowUpdates(): Promise<{ updates: number; inPlace: number }> {
    // The statistics reach pg_stat_user_tables within a second of each transaction.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await this.#client.query<{ updates: string; in_place: string }>(
      `SELECT n_tup_upd AS updates, n_tup_hot_upd AS in_place FROM pg_stat_user_tables
       WHERE schemaname = 'baton' AND relname = 'runs'`,
    );
    const row = result.rows[0];
    return { updates: Number(row?.updates ?? 0), inPlace: Number(row?.in_place ?? 0) };
  }

  async serverFacts(): Promise<string> {
    const result = await this.#client.query<{ version: string; sync: string; fsync: string }>(
      `SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sync,
         current_setting('fsync') AS fsync`,
    );
    const row = result.rows[0]!;
    return `PostgreSQL ${row.version}, synchronous_commit=${row.sync}, fsync=${row.fsync}`;
  }

  async drop(): Promise<void> {
    await this.#client.end();
    await withServer((admin) => admin.query(`DROP DATABASE IF EXISTS ${this.#name} WITH (FORCE)`));
  }
}

async function withServer<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `The PostgreSQL figure needs a server: ${new URL(SERVER_URL).host} answered ${(error as Error).message}. ` +
        `Start it, or set BATON_BENCH_PG_URL.`,
      { cause: error },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** One bench worker process (bench/postgres-worker.ts), driven over stdin. */
class WorkerProcess {
  readonly #process: LineProcess;

  private constructor(process: LineProcess) {
    this.#process = process;
  }

  static async start(url: string): Promise<WorkerProcess> {
    // The script imports our files by relative path: no export condition or hook is needed.
    return new WorkerProcess(await LineProcess.start(WORKER_SCRIPT, [url]));
  }

  send(command: `go ${number}` | 'stop'): void {
    this.#process.send(command);
  }

  async stop(): Promise<{ writes: number; transactions: number }> {
    this.send('stop');
    const [, writes, transactions] = (await this.#process.expect('stopped')).split(' ');
    return { writes: Number(writes), transactions: Number(transactions) };
  }

  kill(): void {
    this.#process.kill();
  }
}
