import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { harness, until } from './support/harness.ts';

const RUNS = 10_000;

describe('parked runs are cheap', () => {
  it(`${RUNS} runs parked on a wait hold no worker slot, and all resume when signalled`, async () => {
    const flow = defineWorkflow('parked', async (ctx, input: { index: number }) => {
      const bonus = await ctx.waitFor<number>('go');
      return input.index + bonus;
    });
    const h = await harness({ workflows: [flow], worker: { concurrency: 64 } });
    try {
      const runIds: string[] = [];
      for (let index = 0; index < RUNS; index++) runIds.push((await h.baton.start(flow, { index })).runId);

      const none = async (status: ('pending' | 'running' | 'waiting')[]): Promise<boolean> =>
        (await h.store.listRuns({ status, limit: 1 })).length === 0;
      await until(
        async () => (await none(['pending', 'running'])) && h.baton.worker?.activeRuns === 0,
        'every run to park',
        60_000,
      );
      expect(await h.store.listRuns({ status: ['waiting'], limit: RUNS })).toHaveLength(RUNS);
      expect(h.baton.worker?.activeRuns).toBe(0);
      // Parked on a signal with no timeout, a run has nothing to wake it but the signal.
      expect(await h.store.nextWakeAt()).toBeUndefined();
      const sample = await h.store.readEvents(runIds[RUNS - 1]!);
      expect(sample.map((event) => event.type)).toEqual(['run.started', 'signal.awaited']);

      for (const runId of runIds) await h.baton.signal(runId, 'go', 1_000_000);
      await until(() => none(['pending', 'running', 'waiting']), 'every run to finish', 60_000);
      const done = await h.store.listRuns({ status: ['completed'], limit: RUNS });
      expect(done).toHaveLength(RUNS);
      const results = new Map(done.map((run) => [run.runId, run.result]));
      runIds.forEach((runId, index) => expect(results.get(runId)).toBe(1_000_000 + index));
    } finally {
      await h.close();
    }
  }, 120_000);
});
