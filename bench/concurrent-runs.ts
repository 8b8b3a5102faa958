import { join } from 'node:path';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { cpuMicrosSince, interleave, measurement, timeCalls, type Figure } from './harness.ts';
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
    const perStep = { cpu: [] as number[], commit: [] as number[] };
    try {
      const template = await client.start(tenSteps, { steps: STEPS });
      const rows = await runAll([template.runId]).then(() => template.history());

      /** Runs the given pending runs on a fresh worker; returns seconds from worker start to the last result. */
      async function runAll(runIds: readonly string[], concurrency = RUNS): Promise<number> {
        const start = performance.now();
        const cpuStart = process.cpuUsage();
        const committed = commits.micros;
        const worker = await Baton.open({ store, workflows: [tenSteps], worker: { concurrency } });
        await Promise.all(runIds.map((runId) => worker.result(runId)));
        const seconds = (performance.now() - start) / 1000;
        const steps = runIds.length * STEPS;
        if (runIds.length === RUNS) batches.set(concurrency, { ...worker.commitStats });
        if (runIds.length === RUNS && concurrency === RUNS) {
          perStep.cpu.push(cpuMicrosSince(cpuStart) / steps);
          perStep.commit.push((commits.micros - committed) / steps);
        }
        await worker.close();
        return seconds;
      }

      const samples = await interleave(
        {
          raw: () => 1e6 / raw.insertEach(rows.length >= 1000 ? rows : repeat(rows, 1000)),
          sequential: async () => {
            const { runId } = await client.start(tenSteps, { steps: SEQUENTIAL_STEPS });
            return SEQUENTIAL_STEPS / (await runAll([runId]));
          },
          few: async () => {
            const runIds: string[] = [];
            for (let index = 0; index < RUNS; index++)
              runIds.push((await client.start(tenSteps, { steps: STEPS })).runId);
            return (RUNS * STEPS) / (await runAll(runIds, FEW_IN_FLIGHT));
          },
          baton: async () => {
            const runIds: string[] = [];
            for (let index = 0; index < RUNS; index++)
              runIds.push((await client.start(tenSteps, { steps: STEPS })).runId);
            return (RUNS * STEPS) / (await runAll(runIds));
          },
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const rawRate = measurement('raw node:sqlite insert+commit', 'rows/s', samples.raw);
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
      const fewRatio = fewRate.value / rawRate.value;
      const groupCommit = (concurrency: number): string => {
        const batch = batches.get(concurrency) ?? { writes: 0, transactions: 0 };
        return `${concurrency} in flight: ${batch.writes} writes in ${batch.transactions} transactions = ${(batch.writes / Math.max(1, batch.transactions)).toFixed(1)} writes per transaction`;
      };
      // The warmup rounds are not among the repeats.
      const measured = (values: number[]): number[] => values.slice(bench.warmup);
      const sequentialRate = measurement(
        `Baton, one ${SEQUENTIAL_STEPS}-step run alone`,
        'steps/s',
        samples.sequential,
      );
      return {
        measurements: [
          rawRate,
          sequentialRate,
          fewRate,
          batonRate,
          measurement(`  Baton: CPU per step (${RUNS} in flight)`, 'µs', measured(perStep.cpu)),
          measurement(
            `  Baton: in store commits per step (${RUNS} in flight)`,
            'µs',
            measured(perStep.commit),
          ),
        ],
        ratio: {
          label: `Baton steps/s with ${RUNS} in flight / raw commits/s`,
          value: batonRate.value / rawRate.value,
          aim: { atLeast: 5 },
        },
        notes: [
          `With ${FEW_IN_FLIGHT} in flight: ${fewRatio.toFixed(2)}× the raw commit rate (aim ≥ 2×: ${fewRatio >= 2 ? 'met' : 'MISSED'}).`,
          `Against Baton's own sequential rate: ${(batonRate.value / sequentialRate.value).toFixed(2)}×.`,
          `Group commit (last repeat): ${groupCommit(FEW_IN_FLIGHT)}; ${groupCommit(RUNS)}.`,
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
