import { cpus, loadavg } from 'node:os';
import { Baton } from '../src/baton.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { measurement, type Figure, type Measurement } from './harness.ts';
import { agentSteps } from './agent-workflows.ts';
import { LatencyModelServer } from './latency-model-server.ts';
import { BenchDatabase } from './postgres.ts';
import { BenchWorker, PostgresCpuMeter, machineBusyMicros, type WorkerStats } from './worker-processes.ts';

const LATENCY_MS = 50;
const PROCESS_COUNTS = [1, 2, 4, 8] as const;
/** Runs a worker process executes at once (Baton's `worker.concurrency`). */
const SLOTS_PER_WORKER = 16;
const STEPS = 10;
/** Runs per slot: every slot runs this many runs of STEPS model calls, one after the other. */
const RUNS_PER_SLOT = 3;

interface Sample {
  stepsPerSecond: number;
  ideal: number;
  workerCpuPerStep: number;
  postgresCpuPerStep: number;
  sharedCpuPerStep: number;
  modelServerCpuPerStep: number;
  writesPerCommit: number;
  /** Cores the whole machine kept busy during the window (every process, ours and others'). */
  machineCores: number;
  /** Transactions PostgreSQL committed in this database per second, and per step. */
  commitsPerSecond: number;
  commitsPerStep: number;
  /** The machine's 1-minute load average at the end of the window. */
  load: number;
}

/**
 * (i) Scale-out with agent-shaped work: each step is one model call to a loopback
 * OpenAI-compatible server that answers after a fixed 50 ms. 1, 2, 4 and 8 worker processes share
 * one PostgreSQL, each running at most 16 runs at once. Throughput is compared with the ideal —
 * every slot busy waiting on the model all the time (runs × steps × latency ÷ slots) — and CPU
 * per step is reported for the workers and for PostgreSQL, so the point where scaling stops shows
 * what stopped it.
 */
export const agentScaleOut: Figure = {
  id: 'scale-out',
  title: `(i) Scale-out with agent-shaped work: steps that each wait ${LATENCY_MS} ms on a model, 1–8 worker processes on one PostgreSQL (${SLOTS_PER_WORKER} runs in flight per process)`,
  async run(bench) {
    const database = await BenchDatabase.create();
    const store = await PostgresStore.open({ url: database.url, poolSize: 4 });
    const client = await Baton.open({ store, workflows: [agentSteps], worker: false });
    const maxSteps = Math.max(...PROCESS_COUNTS) * SLOTS_PER_WORKER * RUNS_PER_SLOT * STEPS;
    const model = await LatencyModelServer.start({
      latencyMs: LATENCY_MS,
      maxRequests: maxSteps * PROCESS_COUNTS.length * (bench.warmup + bench.repeats) * 2,
      lifetimeMs: 30 * 60_000,
    });
    const repeats = Math.min(bench.repeats, 3);
    const samples = new Map<number, Sample[]>(PROCESS_COUNTS.map((count) => [count, []]));
    let local = true;
    try {
      for (let round = 0; round < bench.warmup + repeats; round++) {
        for (const count of PROCESS_COUNTS) {
          const sample = await oneConfiguration(count);
          bench.log(
            `  ${count} process(es): ${Math.round(sample.stepsPerSecond)} steps/s of ${Math.round(sample.ideal)} ideal`,
          );
          if (round >= bench.warmup) samples.get(count)!.push(sample);
        }
      }
    } finally {
      await model.close();
      await client.close();
      await store.close();
      await database.drop();
    }

    async function oneConfiguration(count: number): Promise<Sample> {
      const slots = count * SLOTS_PER_WORKER;
      const runs = slots * RUNS_PER_SLOT;
      const workers = await Promise.all(Array.from({ length: count }, () => BenchWorker.start(database.url)));
      try {
        for (let index = 0; index < runs; index += 50) {
          await Promise.all(
            Array.from({ length: Math.min(50, runs - index) }, () =>
              client.start(agentSteps, { steps: STEPS, modelUrl: model.url }),
            ),
          );
        }
        const before = await Promise.all(workers.map((worker) => worker.stats()));
        const meter = new PostgresCpuMeter(database.url);
        await meter.start();
        const benchCpu = process.cpuUsage();
        const machineBefore = machineBusyMicros();
        const commitsBefore = await database.commits();
        const start = performance.now();
        await Promise.all(workers.map((worker) => worker.go(SLOTS_PER_WORKER)));
        await database.untilNoOpenRuns();
        const seconds = (performance.now() - start) / 1000;
        const benchCpuMicros = cpuOf(process.cpuUsage(benchCpu));
        const machineAfter = machineBusyMicros();
        const machineCores =
          machineBefore === undefined || machineAfter === undefined
            ? Number.NaN
            : (machineAfter - machineBefore) / (seconds * 1e6);
        const postgres = await meter.stop();
        // pg_stat_database is flushed within a second of each transaction.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const commits = (await database.commits()) - commitsBefore;
        local &&= meter.local;
        const after = await Promise.all(workers.map((worker) => worker.stop()));
        const steps = runs * STEPS;
        const delta = (key: keyof WorkerStats): number =>
          after.reduce((sum, stats, index) => sum + stats[key] - before[index]![key], 0);
        return {
          stepsPerSecond: steps / seconds,
          ideal: slots / (LATENCY_MS / 1000),
          workerCpuPerStep: delta('cpuMicros') / steps,
          postgresCpuPerStep: postgres.backendMicros / steps,
          sharedCpuPerStep: postgres.sharedMicros / steps,
          modelServerCpuPerStep: benchCpuMicros / steps,
          writesPerCommit: delta('writes') / Math.max(1, delta('transactions')),
          machineCores,
          commitsPerSecond: commits / seconds,
          commitsPerStep: commits / steps,
          load: loadavg()[0]!,
        };
      } finally {
        for (const worker of workers) worker.kill();
      }
    }

    const rows: Measurement[] = [];
    const medians = new Map<number, Record<keyof Sample, number>>();
    for (const count of PROCESS_COUNTS) {
      const list = samples.get(count)!;
      const pick = (key: keyof Sample): Measurement =>
        measurement(
          key,
          '',
          list.map((sample) => sample[key]),
        );
      const median = Object.fromEntries(
        (Object.keys(list[0]!) as (keyof Sample)[]).map((key) => [key, pick(key).value]),
      ) as Record<keyof Sample, number>;
      medians.set(count, median);
      rows.push(
        measurement(
          `${count} process(es), ${count * SLOTS_PER_WORKER} slots: throughput (ideal ${Math.round(median.ideal)})`,
          'steps/s',
          list.map((sample) => sample.stepsPerSecond),
        ),
        measurement(
          `  CPU per step: workers`,
          'µs',
          list.map((sample) => sample.workerCpuPerStep),
        ),
        measurement(
          `  CPU per step: PostgreSQL backends (+ WAL writer, checkpointer)`,
          'µs',
          list.map((sample) => sample.postgresCpuPerStep + sample.sharedCpuPerStep),
        ),
      );
    }
    const efficiency = (count: number): number => {
      const median = medians.get(count)!;
      return median.stepsPerSecond / median.ideal;
    };
    const first = PROCESS_COUNTS[0];
    const last = PROCESS_COUNTS[PROCESS_COUNTS.length - 1]!;
    const speedUp = (count: number): number =>
      medians.get(count)!.stepsPerSecond / medians.get(first)!.stepsPerSecond;
    const cores = cpus().length;
    const ours = (median: Record<keyof Sample, number>): number =>
      ((median.workerCpuPerStep +
        median.postgresCpuPerStep +
        median.sharedCpuPerStep +
        median.modelServerCpuPerStep) *
        median.stepsPerSecond) /
      1e6;
    const notes = PROCESS_COUNTS.map((count) => {
      const median = medians.get(count)!;
      const postgresCores =
        ((median.postgresCpuPerStep + median.sharedCpuPerStep) * median.stepsPerSecond) / 1e6;
      return (
        `${count} process(es): ${(100 * efficiency(count)).toFixed(0)}% of ideal, ×${speedUp(count).toFixed(2)} the steps/s of ${first}; ` +
        `${median.writesPerCommit.toFixed(1)} writes per commit; this benchmark kept ${ours(median).toFixed(2)} cores busy ` +
        `(workers ${((median.workerCpuPerStep * median.stepsPerSecond) / 1e6).toFixed(2)}, PostgreSQL ${postgresCores.toFixed(2)}, ` +
        `model server ${((median.modelServerCpuPerStep * median.stepsPerSecond) / 1e6).toFixed(2)}); the whole machine ${median.machineCores.toFixed(2)} of ${cores} ` +
        `(load average ${median.load.toFixed(1)}); PostgreSQL committed ${Math.round(median.commitsPerSecond)} transactions/s (${median.commitsPerStep.toFixed(2)} per step).`
      );
    });
    // Scaling stops where one more doubling of processes adds less than half of what it could.
    const stopped = PROCESS_COUNTS.find(
      (count, index) => index > 0 && speedUp(count) / speedUp(PROCESS_COUNTS[index - 1]!) < 1.5,
    );
    const at = stopped === undefined ? undefined : medians.get(stopped)!;
    notes.push(
      stopped === undefined || at === undefined
        ? `Each doubling of processes added at least half again as much throughput up to ${last}.`
        : `Stops scaling at ${stopped} processes (doubling added < 50%): the machine was ${((100 * at.machineCores) / cores).toFixed(0)}% busy ` +
            `(${at.machineCores.toFixed(2)} of ${cores} cores, ${ours(at).toFixed(2)} of them this benchmark's), PostgreSQL ` +
            `${(((at.postgresCpuPerStep + at.sharedCpuPerStep) * at.stepsPerSecond) / 1e6).toFixed(2)} cores: ` +
            (at.machineCores >= cores * 0.85 || at.load > cores
              ? `CPU of this machine is the bound (workers, PostgreSQL and the model server share its cores; load average ${at.load.toFixed(1)}: ` +
                `every process waited for a core). Per step the workers needed ${at.workerCpuPerStep.toFixed(0)} µs and PostgreSQL ` +
                `${(at.postgresCpuPerStep + at.sharedCpuPerStep).toFixed(0)} µs, so ${cores} free cores would carry about ` +
                `${Math.round((cores * 1e6) / (at.workerCpuPerStep + at.postgresCpuPerStep + at.sharedCpuPerStep + at.modelServerCpuPerStep))} steps/s.`
              : `the cores were not saturated, so waiting is the bound: PostgreSQL commits (${Math.round(at.commitsPerSecond)}/s, ` +
                `${at.writesPerCommit.toFixed(1)} writes each), claims, connection pools or the model server.`),
      `Ideal = slots ÷ latency (every slot always waiting on the model); ${RUNS_PER_SLOT} runs of ${STEPS} steps per slot; time runs from "go" to the last run completed.`,
      local
        ? `PostgreSQL CPU is read from /proc of its processes (this database's backends; the shared background processes are the server's).`
        : `PostgreSQL's processes were not readable here (server on another host): its CPU is not counted.`,
    );
    return {
      measurements: rows,
      ratio: {
        label: `throughput / ideal at ${last} processes`,
        value: efficiency(last),
        aim: { atLeast: 0.8 },
      },
      notes,
    };
  },
};

function cpuOf(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}
