import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, timeCalls, type Figure } from './harness.ts';

const EVENTS = 10_000;
/** run.started + steps + signal.awaited = EVENTS. */
const STEPS = EVENTS - 2;

const longRun = defineWorkflow('bench.long-run', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
  await ctx.waitFor('go');
  return sum;
});

/**
 * (c) Resume: a run with a 10,000-event history, parked on a signal, is woken (by a signal it is not
 * waiting for), claimed, replayed through all its steps and parked again. Against a raw SELECT of
 * the same rows.
 */
export const resumeHistory: Figure = {
  id: 'resume',
  title: `(c) Resume a run with a ${EVENTS.toLocaleString('en-US')}-event history (claim → replay → parked) vs raw SELECT of its rows`,
  async run(bench) {
    const dir = bench.tempDir('resume');
    const path = join(dir, 'baton.db');
    // Building the history is set-up, not measured: write it without fsync per step.
    const setupStore = SqliteStore.open({ path, durability: 'normal' });
    const setup = await Baton.open({
      store: setupStore,
      workflows: [longRun],
      onActivationEnd: (run, outcome) => parked.get(run.runId)?.(outcome.status),
    });
    const parked = new Map<string, (status: string) => void>();
    const started = await setup.start(longRun, { steps: STEPS });
    await new Promise<string>((resolve) => parked.set(started.runId, resolve));
    await setup.close();
    await setupStore.close();
    const runId = started.runId;

    const store = SqliteStore.open({ path });
    const reads = timeCalls(store, 'readEvents');
    const readMillis: number[] = [];
    const raw = new DatabaseSync(path, { readOnly: true });
    const select = raw.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY seq');
    const resumed: { status?: string; at: number; onEnd?: () => void } = { at: 0 };
    const baton = await Baton.open({
      store,
      workflows: [longRun],
      onActivationEnd: (run, outcome) => {
        if (run.runId !== runId) return;
        resumed.status = outcome.status;
        resumed.at = performance.now();
        resumed.onEnd?.();
      },
    });
    try {
      const history = await store.readEvents(runId);
      const samples = await interleave(
        {
          raw: () => {
            const start = performance.now();
            const rows = select.all(runId);
            if (rows.length !== EVENTS) throw new Error(`expected ${EVENTS} rows, read ${rows.length}`);
            return performance.now() - start;
          },
          baton: async () => {
            delete resumed.status;
            const done = new Promise<void>((resolve) => (resumed.onEnd = resolve));
            await baton.signal(runId, 'poke'); // wakes the run; it is waiting for 'go', so it parks again
            const start = performance.now();
            const read = reads.micros;
            await done;
            readMillis.push((reads.micros - read) / 1000);
            if (resumed.status !== 'waiting')
              throw new Error(`the run ended its activation as ${resumed.status}`);
            return resumed.at - start;
          },
        },
        // A sample takes tens of milliseconds and moves by 3× with the machine's neighbours and the
        // collector: three times the repeats make the median hold still.
        { warmup: bench.warmup, repeats: bench.repeats * 3 },
      );
      const rawRead = measurement(`raw SELECT of ${EVENTS.toLocaleString('en-US')} rows`, 'ms', samples.raw);
      const batonResume = measurement('Baton: claim, read, replay, park', 'ms', samples.baton);
      return {
        measurements: [
          rawRead,
          batonResume,
          measurement(
            '  of it reading and decoding the events (store.readEvents)',
            'ms',
            readMillis.slice(bench.warmup),
          ),
        ],
        ratio: {
          label: 'Baton resume / raw SELECT',
          value: batonResume.value / rawRead.value,
          aim: { atMost: 1.5 },
        },
        notes: [
          `History: ${history.length.toLocaleString('en-US')} events (${STEPS.toLocaleString('en-US')} step.completed).`,
          `Baton's time runs from the wake-up signal's commit to the park commit (claim and park are fsynced commits).`,
        ],
      };
    } finally {
      await baton.close();
      await store.close();
      raw.close();
    }
  },
};
