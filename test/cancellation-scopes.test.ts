import { describe, expect, it } from 'vitest';
import { CancelledError } from '../src/engine/cancellation-scope.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { replay } from '../src/replay.ts';
import { harnessesClosedAfterEach, until } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

const nameOf = (error: unknown): string => (error as Error).name;

describe('cancellation scopes', () => {
  it('cancel a timer without cancelling the run: the timer is journaled as cancelled', async () => {
    const flow = defineWorkflow('reply-or-remind', async (ctx) => {
      return ctx.cancellable(async (scope) => {
        const reminder = ctx.sleep('1d', 'reminder').then(
          () => 'reminded',
          (error: unknown) => nameOf(error),
        );
        const reply = await ctx.waitFor<string>('reply');
        scope.cancel('answered');
        return { reply, reminder: await reminder, runCancelled: ctx.cancellation.cancelled };
      });
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'reply', 'thanks');
    expect(await run.result()).toEqual({ reply: 'thanks', reminder: 'CancelledError', runCancelled: true });
    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'timer.set',
      'signal.awaited',
      'signal.received',
      'op.cancelled',
      'run.completed',
    ]);
    expect(events[4]).toMatchObject({
      payload: { op: 1, describe: 'timer:reminder', scope: 'scope', reason: 'answered' },
    });
    // The run's scope was not cancelled; the wake-up time of the cancelled timer is gone.
    expect((await run.get()).cancelRequested).toBe(false);
    expect((await replay(events, flow)).ok).toBe(true);
  });

  it('cancel a branch of parallel work; the other branch and the run go on', async () => {
    const flow = defineWorkflow('two-branches', async (ctx) => {
      let slowScope: { cancel(reason?: string): void } | undefined;
      const slow = ctx.cancellable(async (scope) => {
        slowScope = scope;
        await ctx.step('slow-1', () => 1);
        await ctx.waitFor('never');
        return 'slow done';
      });
      const fast = (async () => {
        await ctx.step('fast-1', () => 1);
        return 'fast done';
      })();
      const fastResult = await fast;
      slowScope!.cancel('not needed');
      const slowResult = await slow.catch((error: unknown) => nameOf(error));
      const after = await ctx.step('after', () => 'still running');
      return { fastResult, slowResult, after };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toEqual({
      fastResult: 'fast done',
      slowResult: 'CancelledError',
      after: 'still running',
    });
    const events = await run.history();
    expect(events.filter((event) => event.type === 'op.cancelled').map((event) => event.payload)).toEqual([
      { op: 3, describe: 'signal:never', scope: 'scope', reason: 'not needed' },
    ]);
    expect((await replay(events, flow)).ok).toBe(true);
  });

  it("cancel a child's scope: the child is asked to cancel, the parent's await raises CancelledError", async () => {
    const cleaned: string[] = [];
    const child = defineWorkflow('slow-child', async (ctx) => {
      try {
        await ctx.waitFor('never');
      } catch (error) {
        await ctx.nonCancellable(() => ctx.step('child-cleanup', () => void cleaned.push('child')));
        throw error;
      }
    });
    const parent = defineWorkflow('parent-with-deadline', async (ctx) => {
      const outcome = await ctx.cancellable(async (scope) => {
        const running = ctx.child(child, null);
        const childRunId = await running.runId;
        await ctx.step('meanwhile', () => 'work');
        scope.cancel('took too long');
        return running.then(
          () => 'finished',
          (error: unknown) => `${nameOf(error)} for ${childRunId}`,
        );
      });
      return outcome;
    });
    const h = await start({ workflows: [parent, child] });
    const run = await h.baton.start(parent, null);
    const result = await run.result();
    const [childRun] = await h.store.listRuns({ parentRunId: run.runId });
    expect(result).toBe(`CancelledError for ${childRun!.runId}`);
    const ended = await h.settle(childRun!.runId, 'cancelled');
    expect(ended.metadata.cancelReason).toBe('a cancellation scope of its parent was cancelled');
    expect(cleaned).toEqual(['child']);
    const cancelled = (await run.history()).find(
      (event) => event.type === 'op.cancelled',
    ) as JournalEvent<'op.cancelled'>;
    expect(cancelled.payload).toMatchObject({
      describe: 'child:slow-child',
      childRunId: childRun!.runId,
      scope: 'scope',
    });
    expect((await replay(await run.history(), parent)).ok).toBe(true);
  });

  it('the run’s cancellation reaches scopes inside it, but not what runs in nonCancellable', async () => {
    const flow = defineWorkflow('nested', async (ctx) => {
      const inner = ctx.cancellable(() => ctx.waitFor('inner')).catch((error: unknown) => nameOf(error));
      const shielded = ctx.nonCancellable(async () => {
        const nested = ctx.cancellable(() => ctx.waitFor<string>('shielded'));
        return nested;
      });
      const [innerResult, shieldedResult] = await Promise.all([inner, shielded]);
      return { innerResult, shieldedResult };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    const before = (await run.get()).lastSeq;
    await h.baton.cancel(run.runId, { reason: 'stop' });
    // The shielded wait goes on: the run parks again.
    await h.settle(run.runId, 'waiting', before);
    await h.baton.signal(run.runId, 'shielded', 'kept');
    expect(await run.result()).toEqual({ innerResult: 'CancelledError', shieldedResult: 'kept' });
    const events = await run.history();
    expect(events.filter((event) => event.type === 'op.cancelled').map((event) => event.payload)).toEqual([
      { op: 1, describe: 'signal:inner', scope: 'run', reason: 'stop' },
    ]);
    expect((await replay(events, flow)).ok).toBe(true);
  });

  it('a scope cancelled from inside the workflow raises CancelledError that fails the run when it escapes', async () => {
    const flow = defineWorkflow('gives-up', async (ctx) =>
      ctx.cancellable(async (scope) => {
        scope.cancel('changed my mind');
        return ctx.step('never-runs', () => 'ran');
      }),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await expect(run.result()).rejects.toMatchObject({
      message: expect.stringContaining('A cancellation scope was cancelled: changed my mind.'),
    });
    // Not a cancellation of the run: it failed with the error.
    const record = await until(
      async () => ((await run.get()).status === 'failed' ? run.get() : undefined),
      'failed',
    );
    expect(record.error).toMatchObject({ name: 'CancelledError', code: 'CANCELLED' });
    expect(types(await run.history())).toEqual(['run.started', 'run.failed']);
    expect(CancelledError.isInstance(new CancelledError({ runId: 'r', scope: 'scope' }))).toBe(true);
  });
});
