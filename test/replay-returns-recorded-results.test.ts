import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { aborted, gate, harnessesClosedAfterEach, ManualClock, tempStore } from './support/harness.ts';

const { start, open } = harnessesClosedAfterEach();

describe('replay returns recorded results', () => {
  it('a resumed run gets its steps’ recorded results, and the same now(), random() and uuid(), without running the steps again', async () => {
    const calls = { a: 0, b: 0 };
    const seen: unknown[] = [];
    const flow = defineWorkflow('replay-basic', async (ctx, input: { n: number }) => {
      const a = await ctx.step('a', () => {
        calls.a++;
        return { value: Math.random(), n: input.n };
      });
      const at = ctx.now().toISOString();
      const draws = { random: ctx.random(), uuid: ctx.uuid() };
      seen.push({ a, at, ...draws });
      await ctx.sleep('1h');
      const b = await ctx.step('b', () => {
        calls.b++;
        return a.value * 2;
      });
      return { a, at, ...draws, b };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, { n: 3 });
    await h.settle(run.runId, 'waiting');
    h.advance(60 * 60 * 1000);
    const result = await run.result();

    expect(calls).toEqual({ a: 1, b: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(result).toEqual({ ...(seen[0] as object), b: (seen[0] as { a: { value: number } }).a.value * 2 });
    expect(new Date(result.at).getTime()).toBe(h.clock.now() - 60 * 60 * 1000);

    const events = await run.history();
    expect(events.map((event) => event.type)).toEqual([
      'run.started',
      'step.completed',
      'clock.read',
      'timer.set',
      'timer.fired',
      'step.completed',
      'run.completed',
    ]);
    expect(verifyChain(events).ok).toBe(true);
  });

  it('returns falsy and empty step results as they were', async () => {
    const values = [0, '', false, null, undefined, [], {}] as const;
    let runs = 0;
    const seen: unknown[][] = [];
    const flow = defineWorkflow('replay-falsy', async (ctx) => {
      const results: unknown[] = [];
      for (const [index, value] of values.entries()) {
        results.push(
          await ctx.step(`v${index}`, () => {
            runs++;
            return value;
          }),
        );
      }
      seen.push(results);
      await ctx.sleep('1m');
      return results.map((value) => (value === undefined ? 'undefined' : value));
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    h.advance(60_000);
    await run.result();
    expect(runs).toBe(values.length);
    expect(seen).toEqual([[...values], [...values]]);
  });

  it('a run taken over from a worker that stopped renewing its lease replays its completed steps and runs the rest', async () => {
    const { store, dispose } = await tempStore();
    try {
      const calls: string[] = [];
      const stuck = gate();
      const reached = gate();
      let lostSignal: unknown;
      const flow = defineWorkflow('takeover', async (ctx) => {
        const first = await ctx.step('first', ({ idempotencyKey }) => {
          calls.push(`first ${idempotencyKey}`);
          return 'first-result';
        });
        const second = await ctx.step('second', async ({ signal, idempotencyKey }) => {
          calls.push(`second ${idempotencyKey}`);
          if (calls.length === 2) {
            // The first worker hangs here until it learns it lost the run.
            reached.open();
            lostSignal = await aborted(signal);
            stuck.open();
            throw signal.reason;
          }
          return 'second-result';
        });
        return [first, second];
      });
      // Worker A's clock stands still, so its lease runs out on worker B's clock.
      const clockA = new ManualClock();
      const a = await start({
        store,
        clock: clockA,
        workflows: [flow],
        worker: { leaseMs: 1000, id: 'worker-a' },
      });
      const run = await a.baton.start(flow, null);
      await reached.promise;
      const b = await start({
        store,
        clock: new ManualClock(clockA.now() + 10_000),
        workflows: [flow],
        worker: { leaseMs: 1000, id: 'worker-b' },
      });
      expect(await b.baton.result(run.runId)).toEqual(['first-result', 'second-result']);
      await stuck.promise;

      const key = (op: number): string => `${run.runId}:${op}`;
      expect(calls).toEqual([`first ${key(1)}`, `second ${key(2)}`, `second ${key(2)}`]);
      expect((lostSignal as Error).name).toBe('LeaseLostError');
      const events = await store.readEvents(run.runId);
      expect(events.filter((event) => event.type === 'step.completed')).toHaveLength(2);
      expect(verifyChain(events).ok).toBe(true);
      expect((await store.getRun(run.runId))?.status).toBe('completed');
    } finally {
      for (const h of open.splice(0)) await h.close();
      await dispose();
    }
  });
});
