import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { replay } from '../src/replay.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const HOUR = 60 * 60 * 1000;
const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

describe('resume in place', () => {
  it('a failed run resumes under the same id: the step that failed is tried again, nothing before it', async () => {
    let paymentsUp = false;
    const reserved: string[] = [];
    const flow = defineWorkflow('charge-order', async (ctx, input: { order: string }) => {
      await ctx.step('reserve', () => void reserved.push(input.order));
      const charge = await ctx.step(
        'charge',
        () => {
          if (!paymentsUp) throw new Error('payments API unavailable');
          return { charged: 4200 };
        },
        { retry: { maxAttempts: 2, initialDelay: 1, maxDelay: 1 } },
      );
      return { order: input.order, ...charge };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, { order: 'o-7' });
    await h.settle(run.runId, 'failed');

    paymentsUp = true;
    const resumed = await h.baton.resume(run.runId, { as: 'user:ops', reason: 'payments API is back' });
    expect(resumed).toMatchObject({ runId: run.runId, status: 'pending' });
    expect(resumed.error).toBeUndefined();
    expect(await run.result()).toEqual({ order: 'o-7', charged: 4200 });
    expect(reserved).toEqual(['o-7']);

    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'step.completed',
      'step.attempt.failed',
      'step.failed',
      'run.failed',
      'run.resumed',
      'step.completed',
      'run.completed',
    ]);
    const marker = events[5] as JournalEvent<'run.resumed'>;
    expect(marker.actor).toBe('user:ops');
    expect(marker.payload).toEqual({
      by: 'user:ops',
      reason: 'payments API is back',
      from: 'failed',
      voidFromSeq: 4,
    });
    expect(verifyChain(events).ok).toBe(true);
    expect((await replay(events, flow)).ok).toBe(true);
  });

  it('a timed-out run resumes with a new deadline, from where it waited', async () => {
    const flow = defineWorkflow('slow-approval', async (ctx) => {
      await ctx.step('prepare', () => 'ready');
      return ctx.waitFor<string>('approve');
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null, { timeout: '1h' });
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, HOUR + 1, 'timed_out');
    const resumed = await h.baton.resume(run.runId, {
      as: 'user:ops',
      reason: 'approver is back',
      timeout: '2h',
    });
    expect(resumed.deadlineAt).toBe(h.clock.now() + 2 * HOUR);
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'approve', 'yes');
    expect(await run.result()).toBe('yes');
    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'step.completed',
      'signal.awaited',
      'run.timedOut',
      'run.resumed',
      'signal.received',
      'run.completed',
    ]);
    expect(events[4]?.payload).toMatchObject({ from: 'timed_out', voidFromSeq: 4, timeoutMs: 2 * HOUR });
    expect((await replay(events, flow)).ok).toBe(true);
  });

  it('a cancelled run resumes from before its cancellation', async () => {
    const flow = defineWorkflow('awaits-decision', async (ctx) => {
      try {
        return await ctx.waitFor<string>('decision');
      } catch (error) {
        await ctx.nonCancellable(() => ctx.step('notify', () => 'told the customer'));
        throw error;
      }
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId, { reason: 'by mistake', as: 'user:bob' });
    await h.settle(run.runId, 'cancelled');
    const resumed = await h.baton.resume(run.runId, { as: 'user:bob', reason: 'cancelled the wrong run' });
    expect(resumed.cancelRequested).toBe(false);
    expect(resumed.metadata.cancelReason).toBeUndefined();
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'decision', 'approved');
    expect(await run.result()).toBe('approved');
    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'signal.awaited',
      'run.cancelRequested',
      'op.cancelled',
      'step.completed',
      'run.cancelled',
      'run.resumed',
      'signal.received',
      'run.completed',
    ]);
    expect(events[6]?.payload).toMatchObject({ from: 'cancelled', voidFromSeq: 3 });
    expect((await replay(events, flow)).ok).toBe(true);
  });

  it('refuses to resume a running or completed run, and still unpauses a paused one', async () => {
    const waiter = defineWorkflow('waiter', async (ctx) => ctx.waitFor<string>('go'));
    const quick = defineWorkflow('quick', async () => 'done');
    const h = await start({ workflows: [waiter, quick] });
    const done = await h.baton.start(quick, null);
    await done.result();
    await expect(h.baton.resume(done.runId, { as: 'user:ops' })).rejects.toMatchObject({
      code: 'RUN_NOT_RESUMABLE',
      message: `Cannot resume run ${done.runId}: it is completed. Only a paused, failed, timed-out or cancelled run can be resumed; fork it to run it again from a point (baton fork).`,
    });
    const parked = await h.baton.start(waiter, null);
    await h.settle(parked.runId, 'waiting');
    await expect(h.baton.resume(parked.runId)).rejects.toMatchObject({
      code: 'RUN_NOT_RESUMABLE',
      message: `Cannot resume run ${parked.runId}: it is waiting. Only a paused, failed, timed-out or cancelled run can be resumed.`,
    });
    await h.baton.pause(parked.runId);
    expect((await h.baton.resume(parked.runId)).paused).toBeUndefined();
    await expect(h.baton.resume('run_nope')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(h.baton.resume(done.runId, { as: 'nobody' })).rejects.toMatchObject({
      code: 'RUN_NOT_RESUMABLE',
    });
    expect(types(await parked.history())).not.toContain('run.resumed');
  });
});
