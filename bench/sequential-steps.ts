import { join } from 'node:path';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { cpuMicrosSince, interleave, measurement, microsSince, timeCalls, type Figure } from './harness.ts';
import { RawSqlite } from './raw-sqlite.ts';

const STEPS = 1000;

const sequential = defineWorkflow('bench.sequential', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
  return sum;
});

/**
 * (a) Durable step overhead: one run of 1,000 sequential steps, each committed before the next
 * starts, against raw node:sqlite inserting the same rows one transaction each. CPU time is
 * reported beside wall time: the difference is time spent waiting for fsync.
 */
export const sequentialSteps: Figure = {
  id: 'sequential',
  title: `(a) Sequential durable steps: a ${STEPS.toLocaleString('en-US')}-step workflow vs raw insert+commit (WAL, synchronous=FULL)`,
  async run(bench) {
    const dir = bench.tempDir('sequential');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const baton = await Baton.open({ store, workflows: [sequential], worker: { concurrency: 1 } });
    const raw = new RawSqlite(join(dir, 'raw.db'));
    const cpu = { raw: [] as number[], baton: [] as number[] };
    const inCommit: number[] = [];
    const commits = timeCalls(store, 'commit');
    try {
      // One run first: its journal gives the baseline the very rows Baton writes.
      const first = await baton.start(sequential, { steps: STEPS });
      await first.result();
      const rows = (await first.history()).filter((event) => event.type === 'step.completed');
      const transactionsBefore = baton.commitStats.transactions;

      const samples = await interleave(
        {
          raw: () => {
            const start = process.cpuUsage();
            const perRow = raw.insertEach(rows);
            cpu.raw.push(cpuMicrosSince(start) / rows.length);
            return perRow;
          },
          baton: async () => {
            const start = performance.now();
            const cpuStart = process.cpuUsage();
            const committed = commits.micros;
            const run = await baton.start(sequential, { steps: STEPS });
            await run.result();
            cpu.baton.push(cpuMicrosSince(cpuStart) / STEPS);
            inCommit.push((commits.micros - committed) / STEPS);
            return microsSince(start) / STEPS;
          },
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const rawStep = measurement('raw node:sqlite insert+commit', 'µs/step', samples.raw);
      const batonStep = measurement('Baton durable step (ctx.step)', 'µs/step', samples.baton);
      const runs = bench.warmup + bench.repeats;
      const commitsPerRun = (baton.commitStats.transactions - transactionsBefore) / runs;
      return {
        measurements: [
          rawStep,
          batonStep,
          measurement(
            '  Baton: in the store commit (SQLite + fsync)',
            'µs/step',
            inCommit.slice(bench.warmup),
          ),
          measurement('  CPU, raw', 'µs/step', cpu.raw.slice(bench.warmup)),
          measurement('  CPU, Baton', 'µs/step', cpu.baton.slice(bench.warmup)),
        ],
        ratio: { label: 'Baton / raw', value: batonStep.value / rawStep.value, aim: { atMost: 1.25 } },
        notes: [
          `Baton's time is start() to result(): ${STEPS} step commits plus the run's start and end (${commitsPerRun.toFixed(0)} commits per run).`,
          "Wall minus CPU is time waiting on fsync. Each Baton commit also rewrites the run's row (lease fence, chain head); measured alone, that second page costs no wall time: the gap is CPU around the commit.",
        ],
      };
    } finally {
      await baton.close();
      await store.close();
      raw.close();
    }
  },
};
