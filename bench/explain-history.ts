import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { explain } from '../src/explain/explain.ts';
import { deriveRunModel } from '../src/journal/run-model/derive-run-model.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, type Figure } from './harness.ts';

const EVENTS = 10_000;
/** run.started + steps + run.completed = EVENTS. */
const STEPS = EVENTS - 2;

const longRun = defineWorkflow('bench.explained-run', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
  return sum;
});

/**
 * (e) Explain: `baton explain` of a run with a 10,000-event history (read the journal, derive the
 * run model, build and the explanation), and the run model alone, against a raw SELECT of the same rows.
 */
export const explainHistory: Figure = {
  id: 'explain',
  title: `(e) Explain a run with a ${EVENTS.toLocaleString('en-US')}-event history vs raw SELECT of its rows`,
  async run(bench) {
    const path = join(bench.tempDir('explain'), 'baton.db');
    const setupStore = SqliteStore.open({ path, durability: 'normal' });
    const setup = await Baton.open({ store: setupStore, workflows: [longRun] });
    const started = await setup.start(longRun, { steps: STEPS });
    await started.result();
    await setup.close();
    await setupStore.close();
    const runId = started.runId;

    const store = SqliteStore.open({ path });
    const raw = new DatabaseSync(path, { readOnly: true });
    const select = raw.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY seq');
    const timed = async (work: () => unknown): Promise<number> => {
      const start = performance.now();
      await work();
      return performance.now() - start;
    };
    try {
      const history = await store.readEvents(runId);
      if (history.length !== EVENTS) throw new Error(`expected ${EVENTS} events, read ${history.length}`);
      const samples = await interleave(
        {
          raw: () => timed(() => select.all(runId)),
          read: () => timed(() => store.readEvents(runId)),
          model: () => timed(() => deriveRunModel(history)),
          explain: () => timed(() => explain(store, runId)),
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const rawRead = measurement(`raw SELECT of ${EVENTS.toLocaleString('en-US')} rows`, 'ms', samples.raw);
      const explained = measurement('Baton: explain (read, run model, explanation)', 'ms', samples.explain);
      return {
        measurements: [
          rawRead,
          measurement('  reading and decoding the events (store.readEvents)', 'ms', samples.read),
          measurement('  deriving the run model from them', 'ms', samples.model),
          explained,
        ],
        ratio: { label: 'explain / raw SELECT', value: explained.value / rawRead.value },
        notes: [
          `History: ${history.length.toLocaleString('en-US')} events (${STEPS.toLocaleString('en-US')} step.completed).`,
        ],
      };
    } finally {
      await store.close();
      raw.close();
    }
  },
};
