import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { Baton } from '../src/baton.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import type { BenchContext, Figure, Measurement } from './harness.ts';
import { parkedOnSignal } from './agent-workflows.ts';
import { BenchDatabase } from './postgres.ts';
import { BenchWorker, PostgresCpuMeter, type WorkerStats } from './worker-processes.ts';

const FULL = { postgres: 100_000, sqlite: 10_000 };
const QUICK = { postgres: 5_000, sqlite: 2_000 };
/**
 * Runs parked and woken before "0 parked" is measured (at most this many; fewer when the figure
 * parks fewer), so that both RSS readings come from a worker that has done the same work: memory
 * the allocator keeps after a burst of activity is then not mistaken for memory parked runs hold.
 */
const WARM_RUNS = 5_000;
const WORKER_CONCURRENCY = 64;
/** Starts and signals sent at once by the bench's client. */
const IN_FLIGHT = 200;
/**
 * How often the bench looks whether all runs are parked or done. A count over 100,000 rows costs the
 * server milliseconds: polled every few ms it would take a core from the runs being measured.
 */
const POLL_MS = 250;
/** No phase (parking all, waking all) may take longer: past it the figure reports how far it got. */
const PHASE_LIMIT_MS = 10 * 60_000;

interface Backend {
  name: 'PostgreSQL' | 'SQLite';
  /** What the worker process opens. */
  url: string;
  store: Store;
  /** Meters the server's CPU for this database (PostgreSQL on this machine); undefined otherwise. */
  meter?: () => PostgresCpuMeter;
  count(status: 'waiting' | 'open'): Promise<number>;
  close(): Promise<void>;
}

interface Outcome {
  backend: Backend['name'];
  runs: number;
  parkedOf: number;
  parkSeconds: number;
  idle: WorkerStats;
  parked: WorkerStats;
  woken: WorkerStats;
  wakeSeconds: number;
  wokenOf: number;
  /** CPU µs per woken run: the worker process, the bench process (sending the signals), PostgreSQL's backends. */
  wakeCpu: { worker: number; sender: number; postgres: number | undefined; shared: number | undefined };
  /** The machine's 1-minute load average when waking began and ended. */
  load: [number, number];
}

/**
 * (j) Parked runs cost rows, not memory: 100,000 runs parked on a signal on PostgreSQL (10,000 on
 * SQLite), the worker process's RSS against the same worker with 0 parked, then the time to wake
 * them all (a signal each, sent by another process) until every run has completed.
 */
export const parkedRuns: Figure = {
  id: 'parked',
  title: `(j) Parked runs: ${FULL.postgres.toLocaleString('en-US')} on PostgreSQL and ${FULL.sqlite.toLocaleString('en-US')} on SQLite waiting on a signal — worker RSS against 0 parked, time to wake all`,
  async run(bench) {
    const counts = bench.quick ? QUICK : FULL;
    const outcomes: Outcome[] = [];
    const postgres = await postgresBackend();
    try {
      outcomes.push(await parkAndWake(bench, postgres, counts.postgres));
    } finally {
      await postgres.close();
    }
    const sqlite = sqliteBackend(join(bench.tempDir('parked'), 'baton.db'));
    try {
      outcomes.push(await parkAndWake(bench, sqlite, counts.sqlite));
    } finally {
      await sqlite.close();
    }
    const mib = (bytes: number): number => bytes / 2 ** 20;
    const one = (label: string, value: number, unit: string): Measurement => ({
      label,
      value,
      unit,
      samples: [value],
    });
    const measurements = outcomes.flatMap((outcome) => [
      one(`${outcome.backend}: worker RSS, 0 parked`, mib(outcome.idle.rss), 'MiB'),
      one(
        `${outcome.backend}: worker RSS, ${outcome.parkedOf.toLocaleString('en-US')} parked`,
        mib(outcome.parked.rss),
        'MiB',
      ),
      one(
        `${outcome.backend}:   JS heap per parked run (0 → all parked)`,
        (outcome.parked.heapUsed - outcome.idle.heapUsed) / Math.max(1, outcome.parkedOf),
        'B',
      ),
      one(`${outcome.backend}: time to park all`, outcome.parkSeconds, 's'),
      one(`${outcome.backend}: time to wake all (signal → completed)`, outcome.wakeSeconds, 's'),
      one(`${outcome.backend}:   wake rate`, outcome.wokenOf / outcome.wakeSeconds, 'runs/s'),
      one(`${outcome.backend}:   CPU per woken run: worker process`, outcome.wakeCpu.worker, 'µs'),
      one(`${outcome.backend}:   CPU per woken run: sender (bench process)`, outcome.wakeCpu.sender, 'µs'),
      ...(outcome.wakeCpu.postgres === undefined
        ? []
        : [
            one(
              `${outcome.backend}:   CPU per woken run: PostgreSQL backends`,
              outcome.wakeCpu.postgres,
              'µs',
            ),
            one(
              `${outcome.backend}:   CPU per woken run: WAL writer, checkpointer (whole server)`,
              outcome.wakeCpu.shared ?? 0,
              'µs',
            ),
          ]),
    ]);
    const worst = Math.max(...outcomes.map((outcome) => outcome.parked.rss / outcome.idle.rss));
    return {
      measurements,
      ratio: {
        label: 'worker RSS with all parked / with 0 parked (worst backend)',
        value: worst,
        aim: { atMost: 1.1 },
      },
      notes: [
        ...outcomes.map(
          (outcome) =>
            `${outcome.backend}: ${outcome.parkedOf.toLocaleString('en-US')} of ${outcome.runs.toLocaleString('en-US')} parked, ` +
            `${outcome.wokenOf.toLocaleString('en-US')} woken and completed; worker RSS after waking all ${mib(outcome.woken.rss).toFixed(0)} MiB.`,
        ),
        ...outcomes.map((outcome) => {
          const cpu = outcome.wakeCpu.worker + outcome.wakeCpu.sender + (outcome.wakeCpu.postgres ?? 0);
          return (
            `${outcome.backend} waking: ${cpu.toFixed(0)} µs of CPU per run in all, so ${(((outcome.wokenOf / outcome.wakeSeconds) * cpu) / 1e6).toFixed(2)} cores busy ` +
            `at ${Math.round(outcome.wokenOf / outcome.wakeSeconds)} runs/s; load average ${outcome.load[0].toFixed(1)} → ${outcome.load[1].toFixed(1)} on ${navigator.hardwareConcurrency} cores.`
          );
        }),
        `Signals are sent ${IN_FLIGHT} at a time: each store commits the sends of one moment together (one transaction, one fsync).`,
        `One worker process (concurrency ${WORKER_CONCURRENCY}); the bench process starts the runs and sends the signals, ${IN_FLIGHT} at a time. RSS and heap are read after a full GC; "0 parked" after as many runs (up to ${WARM_RUNS.toLocaleString('en-US')}) were parked and woken, so both readings follow the same work.`,
        bench.quick
          ? `--quick: ${counts.postgres.toLocaleString('en-US')} and ${counts.sqlite.toLocaleString('en-US')} runs instead of ${FULL.postgres.toLocaleString('en-US')} and ${FULL.sqlite.toLocaleString('en-US')}.`
          : `Full size (npm run bench -- --only parked --quick shrinks it).`,
      ],
    };
  },
};

async function parkAndWake(bench: BenchContext, backend: Backend, runs: number): Promise<Outcome> {
  const client = await Baton.open({ store: backend.store, workflows: [parkedOnSignal], worker: false });
  const worker = await BenchWorker.start(backend.url);
  try {
    await worker.go(WORKER_CONCURRENCY);
    // Warm up: park and wake as many (up to WARM_RUNS), so "0 parked" is a worker that did this work once.
    const warm = Math.min(WARM_RUNS, runs);
    bench.log(`  ${backend.name}: warming up with ${warm.toLocaleString('en-US')} runs parked and woken`);
    const warmIds = await parkAll(client, backend, warm, Date.now() + PHASE_LIMIT_MS);
    await wakeAll(client, warmIds, backend, Date.now() + PHASE_LIMIT_MS);
    const idle = await worker.stats();

    bench.log(`  ${backend.name}: parking ${runs.toLocaleString('en-US')} runs`);
    let start = performance.now();
    const ids = await parkAll(client, backend, runs, Date.now() + PHASE_LIMIT_MS);
    const parkSeconds = (performance.now() - start) / 1000;
    const parkedOf = await backend.count('waiting');
    const parked = await worker.stats();

    bench.log(`  ${backend.name}: waking ${parkedOf.toLocaleString('en-US')} runs`);
    const meter = backend.meter?.();
    await meter?.start();
    const senderCpu = process.cpuUsage();
    const loadBefore = loadavg()[0]!;
    start = performance.now();
    const left = await wakeAll(client, ids, backend, Date.now() + PHASE_LIMIT_MS);
    const wakeSeconds = (performance.now() - start) / 1000;
    const sender = process.cpuUsage(senderCpu);
    const server = await meter?.stop();
    const woken = await worker.stats();
    const wokenOf = Math.max(1, ids.length - left);
    return {
      backend: backend.name,
      runs,
      parkedOf,
      parkSeconds,
      idle,
      parked,
      woken,
      wakeSeconds,
      wokenOf: ids.length - left,
      wakeCpu: {
        worker: (woken.cpuMicros - parked.cpuMicros) / wokenOf,
        sender: (sender.user + sender.system) / wokenOf,
        postgres: server && meter?.local ? server.backendMicros / wokenOf : undefined,
        shared: server && meter?.local ? server.sharedMicros / wokenOf : undefined,
      },
      load: [loadBefore, loadavg()[0]!],
    };
  } finally {
    worker.kill();
    await client.close();
  }
}

/** Starts `runs` runs and waits until they are all parked (or the deadline); returns their ids. */
async function parkAll(client: Baton, backend: Backend, runs: number, deadline: number): Promise<string[]> {
  const before = await backend.count('waiting');
  const ids: string[] = [];
  for (let index = 0; index < runs && Date.now() < deadline; index += IN_FLIGHT) {
    const started = await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, runs - index) }, () => client.start(parkedOnSignal, {})),
    );
    for (const run of started) ids.push(run.runId);
  }
  while ((await backend.count('waiting')) - before < ids.length && Date.now() < deadline)
    await pause(POLL_MS);
  return ids;
}

/** Signals every run and waits until none is open (or the deadline); returns how many are still open. */
async function wakeAll(
  client: Baton,
  ids: readonly string[],
  backend: Backend,
  deadline: number,
): Promise<number> {
  for (let index = 0; index < ids.length && Date.now() < deadline; index += IN_FLIGHT) {
    await Promise.all(
      ids
        .slice(index, index + IN_FLIGHT)
        .map((runId, offset) => client.signal(runId, 'go', { n: index + offset })),
    );
  }
  for (;;) {
    const open = await backend.count('open');
    if (open === 0 || Date.now() >= deadline) return open;
    await pause(POLL_MS);
  }
}

async function postgresBackend(): Promise<Backend> {
  const database = await BenchDatabase.create();
  const store = await PostgresStore.open({ url: database.url, poolSize: 8 });
  const counter = new pg.Client({ connectionString: database.url });
  await counter.connect();
  return {
    name: 'PostgreSQL',
    url: database.url,
    store,
    meter: () => new PostgresCpuMeter(database.url),
    async count(status) {
      const result = await counter.query<{ n: string }>(
        status === 'waiting'
          ? `SELECT count(*) AS n FROM baton.runs WHERE status = 'waiting'`
          : `SELECT count(*) AS n FROM baton.runs WHERE status IN ('pending', 'running', 'waiting')`,
      );
      return Number(result.rows[0]!.n);
    },
    async close() {
      await counter.end();
      await store.close();
      await database.drop();
    },
  };
}

function sqliteBackend(path: string): Backend {
  const store = SqliteStore.open({ path });
  const counter = new DatabaseSync(path, { readOnly: true });
  const waiting = counter.prepare(`SELECT count(*) AS n FROM runs WHERE status = 'waiting'`);
  const open = counter.prepare(
    `SELECT count(*) AS n FROM runs WHERE status IN ('pending', 'running', 'waiting')`,
  );
  return {
    name: 'SQLite',
    url: `sqlite:${path}`,
    store,
    count: (status) => Promise.resolve(Number((status === 'waiting' ? waiting : open).get()!.n)),
    async close() {
      counter.close();
      await store.close();
    },
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
