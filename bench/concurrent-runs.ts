import { join } from 'node:path';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { cpuMicrosSince, interleave, measurement, median, timeCalls, type Figure } from './harness.ts';
import { RawSqlite } from './raw-sqlite.ts';

const RUNS = 200;
const STEPS = 10;
/** The smaller number of runs in flight (a worker's concurrency), beside all RUNS at once. */
const FEW_IN_FLIGHT = 20;
/** Baton's own sequential rate, for the second comparison: one run of this many steps. */
const SEQUENTIAL_STEPS = 1000;

const tenSteps = defineWorkflow('bench.ten-steps', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
  return sum;
});

/**
 * (b) Throughput: 200 runs of 10 sequential steps each, all in flight at once on one worker, so the
 * committer batches the steps of many runs into each transaction (group commit). Compared with the
 * rate of raw one-row insert+commit transactions.
 */
export const concurrentRuns: Figure = {
  id: 'concurrent',
  title: `(b) Throughput: ${RUNS} concurrent ${STEPS}-step runs vs raw insert+commit rate`,
  async run(bench) {
    const dir = bench.tempDir('concurrent');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const client = await Baton.open({ store, workflows: [tenSteps], worker: false });
    const raw = new RawSqlite(join(dir, 'raw.db'));
    const batches = new Map<number, { writes: number; transactions: number }>();
    const commits = timeCalls(store, 'commit');
    /** CPU µs per step of each repeat, by runs in flight (1: the sequential run). */
    const cpu = new Map<number, number[]>();
    const commitMicros: number[] = [];
    try {
      const template = await client.start(tenSteps, { steps: STEPS });
      const rows = await runAll([template.runId], 1, 1).then(() => template.history());

      /** Runs the given pending runs on a fresh worker; returns seconds from worker start to the last result. */
      async function runAll(runIds: readonly string[], concurrency: number, steps: number): Promise<number> {
        const start = performance.now();
        const cpuStart = process.cpuUsage();
        const committed = commits.micros;
        const worker = await Baton.open({ store, workflows: [tenSteps], worker: { concurrency } });
        await Promise.all(runIds.map((runId) => worker.result(runId)));
        const seconds = (performance.now() - start) / 1000;
        const used = cpuMicrosSince(cpuStart);
        const total = runIds.length * steps;
        if (runIds.length > 1 || steps > STEPS) {
          cpu.set(concurrency, [...(cpu.get(concurrency) ?? []), used / total]);
          batches.set(concurrency, { ...worker.commitStats });
        }
        if (concurrency === RUNS) commitMicros.push((commits.micros - committed) / total);
        await worker.close();
        return seconds;
      }

      /** Starts RUNS pending runs of STEPS steps (not timed). */
      async function pending(): Promise<string[]> {
        const runIds: string[] = [];
        for (let index = 0; index < RUNS; index++)
          runIds.push((await client.start(tenSteps, { steps: STEPS })).runId);
        return runIds;
      }

      // Each Baton sample sits between two raw samples of its own round, so a ratio can be taken
      // within the round: the disk's fsync latency (what sets the raw rate) drifts by the minute on a
      // shared machine, while Baton's rate with many runs in flight is set by CPU.
      const rawRows = rows.length >= 1000 ? rows : repeat(rows, 1000);
      const samples = await interleave(
        {
          raw: () => 1e6 / raw.insertEach(rawRows),
          sequential: async () => {
            const { runId } = await client.start(tenSteps, { steps: SEQUENTIAL_STEPS });
            return SEQUENTIAL_STEPS / (await runAll([runId], 1, SEQUENTIAL_STEPS));
          },
          few: async () => (RUNS * STEPS) / (await runAll(await pending(), FEW_IN_FLIGHT, STEPS)),
          baton: async () => (RUNS * STEPS) / (await runAll(await pending(), RUNS, STEPS)),
          rawAfter: () => 1e6 / raw.insertEach(rawRows),
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const rawRate = measurement(
        'raw node:sqlite insert+commit',
        'rows/s',
        samples.raw.map((value, index) => (value + samples.rawAfter[index]!) / 2),
      );
      const batonRate = measurement(
        `Baton, ${RUNS}×${STEPS} steps, all ${RUNS} in flight`,
        'steps/s',
        samples.baton,
      );
      const fewRate = measurement(
        `Baton, ${RUNS}×${STEPS} steps, ${FEW_IN_FLIGHT} in flight`,
        'steps/s',
        samples.few,
      );
      // Per round: Baton's rate over the mean of the raw rates measured around it.
      const roundRatios = (values: readonly number[]): number[] =>
        values.map((value, index) => value / rawRate.samples[index]!);
      const fewRatios = roundRatios(samples.few);
      const manyRatios = roundRatios(samples.baton);
      const fewRatio = median(fewRatios);
      const groupCommit = (concurrency: number): string => {
        const batch = batches.get(concurrency) ?? { writes: 0, transactions: 0 };
        return `${concurrency} in flight: ${batch.writes} writes in ${batch.transactions} transactions = ${(batch.writes / Math.max(1, batch.transactions)).toFixed(1)} writes per transaction`;
      };
      // The warmup rounds are not among the repeats.
      const measured = (values: readonly number[] | undefined): number[] =>
        (values ?? []).slice(bench.warmup);
      const sequentialRate = measurement(
        `Baton, one ${SEQUENTIAL_STEPS}-step run alone`,
        'steps/s',
        samples.sequential,
      );
      const manyCpu = measurement(`  Baton: CPU per step (${RUNS} in flight)`, 'µs', measured(cpu.get(RUNS)));
      const rawCommitMicros = 1e6 / rawRate.value;
      const spread = (ratios: readonly number[]): string =>
        `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`;
      return {
        measurements: [
          rawRate,
          sequentialRate,
          fewRate,
          batonRate,
          measurement('  Baton: CPU per step (one run alone)', 'µs', measured(cpu.get(1))),
          measurement(
            `  Baton: CPU per step (${FEW_IN_FLIGHT} in flight)`,
            'µs',
            measured(cpu.get(FEW_IN_FLIGHT)),
          ),
          manyCpu,
          measurement(`  Baton: in store commits per step (${RUNS} in flight)`, 'µs', measured(commitMicros)),
        ],
        ratio: {
          label: `Baton steps/s with ${RUNS} in flight / raw commits/s (median of ${manyRatios.length} rounds)`,
          value: median(manyRatios),
          aim: { atLeast: 5 },
        },
        notes: [
          `With ${FEW_IN_FLIGHT} in flight: ${fewRatio.toFixed(2)}× the raw commit rate (rounds ${spread(fewRatios)}; aim ≥ 2×: ${fewRatio >= 2 ? 'met' : 'MISSED'}).`,
          `With ${RUNS} in flight, rounds ${spread(manyRatios)}; against Baton's own sequential rate: ${(batonRate.value / sequentialRate.value).toFixed(2)}×.`,
          `Group commit (last repeat): ${groupCommit(FEW_IN_FLIGHT)}; ${groupCommit(RUNS)}.`,
          `With ${RUNS} in flight Baton is bound by CPU (one fsync per ${RUNS} steps), the raw rate by fsync: ` +
            `the ratio is about raw commit time ÷ Baton CPU per step = ${rawCommitMicros.toFixed(0)} ÷ ${manyCpu.value.toFixed(0)} µs, ` +
            "so it moves with the disk's fsync latency (a busy disk raises it); each round pairs Baton with raw rates measured around it.",
          `Baton's time runs from the worker's start (claiming the ${RUNS} pending runs) to the last result; ` +
            `creating the runs is not counted.`,
        ],
      };
    } finally {
      await client.close();
      await store.close();
      raw.close();
    }
  },
};

function repeat<T extends { seq: number }>(rows: readonly T[], count: number): T[] {
  return Array.from({ length: count }, (_, index) => ({ ...rows[index % rows.length]!, seq: index + 1 }));
}
