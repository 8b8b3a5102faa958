import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { gate, harnessesClosedAfterEach } from './support/harness.ts';

const HOUR = 60 * 60 * 1000;
const { start } = harnessesClosedAfterEach();

function completions(events: readonly JournalEvent[]): { op: number; name: string }[] {
  return events
    .filter((event): event is JournalEvent<'step.completed'> => event.type === 'step.completed')
    .map((event) => ({ op: event.payload.op, name: event.payload.name }));
}

describe('Promise.all over ctx calls', () => {
  it('runs the steps at once, journals them as they finish, and replays them by call order', async () => {
    const started: string[] = [];
    const release = { a: gate(), b: gate(), c: gate() };
    const allStarted = gate();
    const flow = defineWorkflow('fan-out', async (ctx) => {
      const step = (name: keyof typeof release) =>
        ctx.step(name, async () => {
          started.push(name);
          if (started.length === 3) allStarted.open();
          await release[name].promise;
          return `${name}-result`;
        });
      const results = await Promise.all([step('a'), step('b'), step('c')]);
      await ctx.sleep('1h');
      return results;
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    // All three are in flight together, so none waits on another.
    await allStarted.promise;
    expect(started.sort()).toEqual(['a', 'b', 'c']);
    // They finish in reverse order.
    release.c.open();
    release.b.open();
    release.a.open();
    await h.settle(run.runId, 'waiting');

    const parked = completions(await run.history());
    expect(parked.map((step) => step.op).sort()).toEqual([1, 2, 3]);
    expect(parked.find((step) => step.name === 'a')?.op).toBe(1);
    expect(parked.find((step) => step.name === 'c')?.op).toBe(3);

    // On replay each call gets its own result back, whatever order they were journaled in.
    h.advance(HOUR);
    expect(await run.result()).toEqual(['a-result', 'b-result', 'c-result']);
    expect(started).toHaveLength(3);
    expect(verifyChain(await run.history()).ok).toBe(true);
  });

  it('replays correctly when the journal order differs from the call order', async () => {
    const order = gate();
    let runs = 0;
    const flow = defineWorkflow('out-of-order', async (ctx) => {
      const slow = ctx.step('slow', async () => {
        runs++;
        await order.promise;
        return 'slow';
      });
      const fast = ctx.step('fast', () => {
        runs++;
        order.open();
        return 'fast';
      });
      const [first, second] = await Promise.all([slow, fast]);
      await ctx.sleep('1h');
      return `${first}+${second}`;
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    expect(completions(await run.history()).map((step) => step.name)).toEqual(['fast', 'slow']);
    h.advance(HOUR);
    expect(await run.result()).toBe('slow+fast');
    expect(runs).toBe(2);
  });

  it('mixes steps, sleeps and waits: completed branches are not run again while others park', async () => {
    let charged = 0;
    const flow = defineWorkflow('mixed', async (ctx) => {
      const [charge, reply] = await Promise.all([
        ctx.step('charge', () => ++charged),
        ctx.waitFor<string>('reply'),
        ctx.sleep('1h'),
      ]);
      return { charge, reply };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    const parked = await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'reply', 'hello');
    await h.settle(run.runId, 'waiting', parked.lastSeq);
    h.advance(HOUR);
    expect(await run.result()).toEqual({ charge: 1, reply: 'hello' });
    expect(charged).toBe(1);
  });

  it('a failing branch is journaled as failed while the others complete (Promise.allSettled)', async () => {
    const flow = defineWorkflow('settled', async (ctx) => {
      const outcomes = await Promise.allSettled([
        ctx.step('ok', () => 'fine'),
        ctx.step(
          'bad',
          () => {
            throw new Error('nope');
          },
          { retry: { maxAttempts: 1 } },
        ),
        ctx.step('ok-too', () => 'also fine'),
      ]);
      return outcomes.map((outcome) => outcome.status);
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const events = await run.history();
    expect(
      completions(events)
        .map((step) => step.name)
        .sort(),
    ).toEqual(['ok', 'ok-too']);
    expect(events.filter((event) => event.type === 'step.failed')).toHaveLength(1);
  });

  it('many parallel steps share commits (group commit) and each is journaled once', async () => {
    const flow = defineWorkflow('wide', async (ctx) =>
      Promise.all(Array.from({ length: 50 }, (_, index) => ctx.step(`s${index}`, () => index))),
    );
    const h = await start({ workflows: [flow] });
    const before = h.baton.commitStats;
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toEqual(Array.from({ length: 50 }, (_, index) => index));
    const steps = completions(await run.history());
    expect(steps).toHaveLength(50);
    expect(new Set(steps.map((step) => step.op)).size).toBe(50);
    const transactions = h.baton.commitStats.transactions - before.transactions;
    const writes = h.baton.commitStats.writes - before.writes;
    expect(writes).toBeGreaterThanOrEqual(51);
    expect(transactions).toBeLessThan(writes);
  });
});
