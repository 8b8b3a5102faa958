import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { Baton } from '../src/baton.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { measurement, type Figure, type Measurement } from './harness.ts';
import { agentSteps } from './agent-workflows.ts';
import { LatencyModelServer } from './latency-model-server.ts';
import { BenchDatabase } from './postgres.ts';
import { BenchWorker, PostgresCpuMeter, machineBusyMicros, type WorkerStats } from './worker-processes.ts';

const LATENCY_MS = 50;
const PROCESS_COUNTS = [1, 2, 4, 8] as const;
/** Runs a worker process executes at once (Baton's `worker.concurrency`), swept. */
const SLOT_COUNTS = [4, 16] as const;
const STEPS = 10;
/** Runs per slot: every slot runs this many runs of STEPS model calls, one after the other. */
const RUNS_PER_SLOT = 3;
const MOST_PROCESSES = PROCESS_COUNTS[PROCESS_COUNTS.length - 1]!;

interface Configuration {
  processes: number;
  slots: number;
}

interface Sample {
  stepsPerSecond: number;
  /** Every slot always waiting on the model: slots ÷ latency. */
  ideal: number;
  workerCpuPerStep: number;
  /** CPU of the backends serving this database. */
  postgresCpuPerStep: number;
  /** CPU of the server's WAL writer, checkpointer and background writer (shared by every database). */
  sharedCpuPerStep: number;
  /** CPU of this process: the model server, and the driver that starts runs and waits for them. */
  modelServerCpuPerStep: number;
  writesPerCommit: number;
  /** Cores the whole machine kept busy during the window (every process, ours and others'). */
  machineCores: number;
  /** The machine's 1-minute load average at the end of the window. */
  load: number;
  /** Median time from one step's answer to the next one's in a run (ms): the model's latency plus what the step waits on besides. */
  stepCycleMs: number;
}

type Medians = Record<keyof Sample, number>;

/**
 * (i) Scale-out with agent-shaped work: each step is one model call to a loopback
 * OpenAI-compatible server that answers after a fixed 50 ms. 1, 2, 4 and 8 worker processes share
 * one PostgreSQL, each running at most 4, then 16 runs at once. Throughput is compared with the
 * ideal — every slot busy waiting on the model all the time (slots ÷ latency) — and CPU per step is
 * reported for the workers and for PostgreSQL. The CPU a configuration demands at its ideal is
 * (ideal steps/s × CPU per step): the headline is the largest configuration whose demand fits the
 * machine's cores, and the ones that do not are printed beside it with the bound the CPU budget
 * sets (cores ÷ CPU per step).
 */
export const agentScaleOut: Figure = {
  id: 'scale-out',
  title: `(i) Scale-out with agent-shaped work: steps that each wait ${LATENCY_MS} ms on a model, 1–${MOST_PROCESSES} worker processes × ${SLOT_COUNTS.join(' or ')} runs in flight each, on one PostgreSQL`,
  async run(bench) {
    const database = await BenchDatabase.create();
    const store = await PostgresStore.open({ url: database.url, poolSize: 4 });
    const client = await Baton.open({ store, workflows: [agentSteps], worker: false });
    const watcher = new pg.Client({ connectionString: database.url });
    await watcher.connect();
    const repeats = Math.min(bench.repeats, 3);
    const configurations: Configuration[] = SLOT_COUNTS.flatMap((slots) =>
      PROCESS_COUNTS.map((processes) => ({ processes, slots })),
    );
    const warmup: Configuration = { processes: MOST_PROCESSES, slots: SLOT_COUNTS[0] };
    const stepsOf = ({ processes, slots }: Configuration): number =>
      processes * slots * RUNS_PER_SLOT * STEPS;
    const model = await LatencyModelServer.start({
      latencyMs: LATENCY_MS,
      maxRequests:
        2 *
        (bench.warmup * stepsOf(warmup) + repeats * configurations.reduce((sum, c) => sum + stepsOf(c), 0)),
      lifetimeMs: 15 * 60_000,
    });
    const samples = new Map<Configuration, Sample[]>(configurations.map((c) => [c, []]));
    let local = true;
    // One set of worker processes for every configuration: spawning (and compiling) them is not
    // what is measured, and a configuration of n processes uses the first n.
    const workers = await Promise.all(
      Array.from({ length: MOST_PROCESSES }, () => BenchWorker.start(database.url)),
    );
    try {
      for (let round = 0; round < bench.warmup; round++) await oneConfiguration(warmup);
      for (let round = 0; round < repeats; round++) {
        for (const configuration of configurations) {
          const sample = await oneConfiguration(configuration);
          bench.log(
            `  ${configuration.processes} process(es) × ${configuration.slots} slots: ${Math.round(sample.stepsPerSecond)} steps/s of ${Math.round(sample.ideal)} ideal`,
          );
          samples.get(configuration)!.push(sample);
        }
      }
    } finally {
      for (const worker of workers) worker.kill();
      await watcher.end();
      await model.close();
      await client.close();
      await store.close();
      await database.drop();
    }

    async function oneConfiguration(configuration: Configuration): Promise<Sample> {
      const { processes, slots } = configuration;
      const working = workers.slice(0, processes);
      const runs = processes * slots * RUNS_PER_SLOT;
      for (let index = 0; index < runs; index += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, runs - index) }, () =>
            client.start(agentSteps, { steps: STEPS, modelUrl: model.url }),
          ),
        );
      }
      // The workers' connections stay open through the window: the meter need not look often.
      const meter = new PostgresCpuMeter(database.url, 500);
      await meter.start();
      const driverCpu = process.cpuUsage();
      const machineBefore = machineBusyMicros();
      const start = Date.now();
      // Worker CPU is counted from each worker's start (opening Baton is once per process, not per step).
      const before = await Promise.all(working.map((worker) => worker.go(slots)));
      const finishedAt = await lastRunFinished();
      // The window ends when the last run finished (its row's time), not when the poll noticed.
      const seconds = Math.max(1, finishedAt - start) / 1000;
      const driverMicros = cpuOf(process.cpuUsage(driverCpu));
      const machineAfter = machineBusyMicros();
      const windowSeconds = (Date.now() - start) / 1000;
      const postgres = await meter.stop();
      const after = await Promise.all(working.map((worker) => worker.stop()));
      const stepCycleMs = await medianStepCycle(start);
      local &&= meter.local;
      const steps = runs * STEPS;
      const delta = (key: keyof WorkerStats): number =>
        after.reduce((sum, stats, index) => sum + stats[key] - before[index]![key], 0);
      return {
        stepsPerSecond: steps / seconds,
        ideal: (processes * slots) / (LATENCY_MS / 1000),
        workerCpuPerStep: delta('cpuMicros') / steps,
        postgresCpuPerStep: postgres.backendMicros / steps,
        sharedCpuPerStep: postgres.sharedMicros / steps,
        modelServerCpuPerStep: driverMicros / steps,
        writesPerCommit: delta('writes') / Math.max(1, delta('transactions')),
        machineCores:
          machineBefore === undefined || machineAfter === undefined
            ? Number.NaN
            : (machineAfter - machineBefore) / (windowSeconds * 1e6),
        load: loadavg()[0]!,
        stepCycleMs,
      };
    }

    /** From the journal: the median time between consecutive `step.completed` events of a run, for the events since `since`. */
    async function medianStepCycle(since: number): Promise<number> {
      const { rows } = await watcher.query<{ cycle: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS cycle FROM (
           SELECT (extract(epoch FROM at::timestamptz) -
                   extract(epoch FROM lag(at::timestamptz) OVER (PARTITION BY run_id ORDER BY seq))) * 1000 AS gap
           FROM baton.events WHERE type = 'step.completed' AND at >= $1) AS gaps WHERE gap IS NOT NULL`,
        [new Date(since).toISOString()],
      );
      return Number(rows[0]?.cycle ?? Number.NaN);
    }

    /** Waits (polling every 100 ms, so the wait costs PostgreSQL nothing measurable) until no run is open; when the last one finished. */
    async function lastRunFinished(): Promise<number> {
      // Bounded: a configuration takes seconds; one that has not finished in two minutes is broken.
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error('scale-out: runs still open after 120 s');
        const { rows } = await watcher.query<{ open: string; last: string | null }>(
          `SELECT count(*) FILTER (WHERE status IN ('pending', 'running', 'waiting')) AS open,
             max(updated_at) AS last FROM baton.runs`,
        );
        if (Number(rows[0]!.open) === 0) return Number(rows[0]!.last);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const cores = cpus().length;
    const medians = new Map<Configuration, Medians>();
    const rows: Measurement[] = [];
    for (const configuration of configurations) {
      const list = samples.get(configuration)!;
      const median = Object.fromEntries(
        (Object.keys(list[0]!) as (keyof Sample)[]).map((key) => [
          key,
          measurement(
            key,
            '',
            list.map((sample) => sample[key]),
          ).value,
        ]),
      ) as Medians;
      medians.set(configuration, median);
      const { processes, slots } = configuration;
      rows.push(
        measurement(
          `${processes} × ${slots} slots: throughput (ideal ${Math.round(median.ideal)}, ${percent(median.stepsPerSecond / median.ideal)})`,
          'steps/s',
          list.map((sample) => sample.stepsPerSecond),
        ),
        measurement(
          `  CPU per step: workers`,
          'µs',
          list.map((sample) => sample.workerCpuPerStep),
        ),
        measurement(
          `  CPU per step: PostgreSQL backends`,
          'µs',
          list.map((sample) => sample.postgresCpuPerStep),
        ),
      );
    }

    /** All the CPU one step costs this machine: workers, PostgreSQL (its share of the shared processes too), the model server. */
    const cpuPerStep = (median: Medians): number =>
      median.workerCpuPerStep +
      median.postgresCpuPerStep +
      median.sharedCpuPerStep +
      median.modelServerCpuPerStep;
    /** Cores a configuration needs to run at its ideal. */
    const demand = (median: Medians): number => (median.ideal * cpuPerStep(median)) / 1e6;
    /** Steps/s the machine's cores carry at this CPU per step. */
    const budget = (median: Medians): number => (cores * 1e6) / cpuPerStep(median);
    /** Cores busy with other processes than this benchmark's during the window (a shared machine). */
    const others = (median: Medians): number =>
      Math.max(0, median.machineCores - (cpuPerStep(median) * median.stepsPerSecond) / 1e6);
    /** Steps/s the cores other processes left carry at this CPU per step. */
    const leftBudget = (median: Medians): number => ((cores - others(median)) * 1e6) / cpuPerStep(median);
    const fits = (configuration: Configuration): boolean => demand(medians.get(configuration)!) <= cores;
    const largest = configurations.filter((c) => c.processes === MOST_PROCESSES);
    const headline = [...largest].reverse().find(fits) ?? largest[0]!;
    const saturating = largest.filter((c) => c !== headline);
    const at = (configuration: Configuration): Medians => medians.get(configuration)!;

    const notes = configurations.map((configuration) => {
      const median = at(configuration);
      return (
        `${configuration.processes} × ${configuration.slots}: ${percent(median.stepsPerSecond / median.ideal)} of ideal; CPU per step ` +
        `${Math.round(cpuPerStep(median))} µs (workers ${Math.round(median.workerCpuPerStep)}, PostgreSQL ${Math.round(median.postgresCpuPerStep)} ` +
        `+ ${Math.round(median.sharedCpuPerStep)} shared, model server ${Math.round(median.modelServerCpuPerStep)}); at its ideal it demands ` +
        `${demand(median).toFixed(2)} of ${cores} cores${demand(median) <= cores ? '' : ' — more than the machine has'}; ` +
        `a step every ${median.stepCycleMs.toFixed(1)} ms in each run (${LATENCY_MS} of them the model); ` +
        `${median.writesPerCommit.toFixed(1)} journal writes per commit; the machine ` +
        `was ${median.machineCores.toFixed(2)} cores busy, ${others(median).toFixed(2)} of them with other processes (load average ${median.load.toFixed(1)}).`
      );
    });
    for (const slots of SLOT_COUNTS) {
      const line = PROCESS_COUNTS.map((processes) =>
        configurations.find((c) => c.processes === processes && c.slots === slots)!,
      );
      const speedUps = line.map((c) => at(c).stepsPerSecond / at(line[0]!).stepsPerSecond);
      // Scaling stops where one more doubling of processes adds less than half of what it could.
      const stop = line.findIndex((_, index) => index > 0 && speedUps[index]! / speedUps[index - 1]! < 1.5);
      const stopped = stop < 0 ? undefined : at(line[stop]!);
      notes.push(
        `${slots} slots per process: ×${speedUps.map((s) => s.toFixed(2)).join(', ×')} the steps/s of 1 process at ${PROCESS_COUNTS.join(', ')}; ` +
          (stopped === undefined
            ? `each doubling added at least half again as much.`
            : `stops scaling at ${line[stop]!.processes} processes: ${Math.round(stopped.stepsPerSecond)} steps/s against a CPU budget of ` +
              `${cores} cores ÷ ${Math.round(cpuPerStep(stopped))} µs per step = ${Math.round(budget(stopped))} steps/s` +
              (stopped.machineCores >= cores * 0.85
                ? ` (the machine was ${percent(stopped.machineCores / cores)} busy, ${others(stopped).toFixed(2)} cores of it other processes': CPU is the bound; ` +
                  `the ${(cores - others(stopped)).toFixed(2)} cores they left carry ${Math.round(leftBudget(stopped))} steps/s at this CPU per step).`
                : ` (the machine was ${percent(stopped.machineCores / cores)} busy: not CPU but waiting is the bound — a step every ` +
                  `${stopped.stepCycleMs.toFixed(1)} ms in each run against ${LATENCY_MS} ms of model: commits (fsync), claims, connections).`)),
      );
    }
    const head = at(headline);
    notes.push(
      `Headline: ${headline.processes} × ${headline.slots} slots, the largest configuration whose demand at its ideal ` +
        `(${Math.round(head.ideal)} steps/s × ${Math.round(cpuPerStep(head))} µs = ${demand(head).toFixed(2)} cores) ` +
        `${fits(headline) ? `fits the machine's ${cores} cores` : `— none fits the machine's ${cores} cores, so this one is shown`}` +
        ` (other processes used ${others(head).toFixed(2)} of them meanwhile: the cores left carry ${Math.round(leftBudget(head))} steps/s at its CPU per step). ` +
        saturating
          .map((c) => {
            const median = at(c);
            return (
              `Beside it ${c.processes} × ${c.slots} slots demands ${demand(median).toFixed(2)} cores: it reaches ` +
              `${Math.round(median.stepsPerSecond)} steps/s, ${percent(median.stepsPerSecond / budget(median))} of its CPU budget ` +
              `(${Math.round(budget(median))} steps/s; ${Math.round(leftBudget(median))} on the cores other processes left), ` +
              `${percent(median.stepsPerSecond / median.ideal)} of its ideal.`
            );
          })
          .join(' '),
      `Ideal = slots ÷ latency (every slot always waiting on the model); ${RUNS_PER_SLOT} runs of ${STEPS} steps per slot; the window ` +
        `runs from "go" to the last run's completion. The steps call the model with node:http on a keep-alive agent (see capacity.md).`,
      local
        ? `PostgreSQL CPU is read from /proc of its processes: this database's backends, and ("shared") the WAL writer, ` +
            `checkpointer and background writer, which also serve any other database busy meanwhile.`
        : `PostgreSQL's processes were not readable here (server on another host): its CPU is not counted.`,
    );
    return {
      measurements: rows,
      ratio: {
        label: `throughput / ideal at ${headline.processes} processes × ${headline.slots} slots (the largest whose CPU fits the machine)`,
        value: head.stepsPerSecond / head.ideal,
        aim: { atLeast: 0.8 },
      },
      notes,
    };
  },
};

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(0)}%`;
}

function cpuOf(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}
