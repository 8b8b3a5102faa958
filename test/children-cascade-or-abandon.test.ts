import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { harnessesClosedAfterEach, until } from './support/harness.ts';

const HOUR = 60 * 60 * 1000;
const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

/** A child that waits for a signal and journals its cleanup when cancelled. */
const worker = defineWorkflow('worker-child', async (ctx) => {
  try {
    return await ctx.waitFor<string>('done');
  } catch (error) {
    await ctx.nonCancellable(() => ctx.step('child-cleanup', () => 'cleaned'));
    throw error;
  }
});

const parentOf = (options: { parentClose?: 'cancel' | 'abandon' } = {}) =>
  defineWorkflow(`parent-${options.parentClose ?? 'default'}`, async (ctx) => {
    const child = ctx.child(worker, null, options);
    await child.runId;
    return await child;
  });

async function childOf(h: Awaited<ReturnType<typeof start>>, runId: string) {
  const [child] = await until(async () => {
    const children = await h.store.listRuns({ parentRunId: runId, status: ['waiting'] });
    return children.length === 1 ? children : undefined;
  }, 'the child to park');
  return child!;
}

describe('children: cascade or not', () => {
  it('by default, cancelling a parent cancels its children, which clean up', async () => {
    const parent = parentOf();
    const h = await start({ workflows: [parent, worker] });
    const run = await h.baton.start(parent, null);
    const child = await childOf(h, run.runId);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId, { reason: 'order withdrawn', as: 'user:ops' });
    await h.settle(run.runId, 'cancelled');
    const ended = await h.settle(child.runId, 'cancelled');
    expect(ended.metadata.cancelReason).toBe('the parent run was cancelled');
    const childEvents = await h.store.readEvents(child.runId);
    expect(childEvents.map((event) => event.type)).toContain('step.completed');
    expect(childEvents.at(-1)?.type).toBe('run.cancelled');
  });

  it("children: 'abandon' leaves the children running after the parent is cancelled", async () => {
    const parent = parentOf();
    const h = await start({ workflows: [parent, worker] });
    const run = await h.baton.start(parent, null);
    const child = await childOf(h, run.runId);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId, { children: 'abandon' });
    await h.settle(run.runId, 'cancelled');
    const cancelled = (await run.history()).find((event) => event.type === 'run.cancelRequested');
    expect(cancelled?.payload.children).toBe('abandon');
    expect((await h.store.getRun(child.runId))?.cancelRequested).toBe(false);
    await h.baton.signal(child.runId, 'done', 'finished anyway');
    expect(await h.baton.result(child.runId)).toBe('finished anyway');
  });

  it("a child started with parentClose: 'abandon' outlives its parent's cancellation and timeout", async () => {
    const parent = parentOf({ parentClose: 'abandon' });
    const h = await start({ workflows: [parent, worker] });
    const cancelledParent = await h.baton.start(parent, null);
    const detached = await childOf(h, cancelledParent.runId);
    expect(detached.metadata.parentClose).toBe('abandon');
    const started = (await cancelledParent.history()).find((event) => event.type === 'child.started');
    expect(started?.payload).toMatchObject({ parentClose: 'abandon' });
    await h.settle(cancelledParent.runId, 'waiting');
    await h.baton.cancel(cancelledParent.runId);
    await h.settle(cancelledParent.runId, 'cancelled');
    expect((await h.store.getRun(detached.runId))?.status).toBe('waiting');

    const timedParent = await h.baton.start(parent, null, { timeout: '1h' });
    const second = await childOf(h, timedParent.runId);
    await h.settle(timedParent.runId, 'waiting');
    await h.advanceUntil(timedParent.runId, HOUR + 1, 'timed_out');
    expect((await h.store.getRun(second.runId))?.status).toBe('waiting');
    // A detached child does not inherit its parent's deadline either.
    await h.baton.signal(second.runId, 'done', 'outlived');
    expect(await h.baton.result(second.runId)).toBe('outlived');
  });

  it('refuses an unknown children mode or parentClose at the door', async () => {
    const h = await start({ workflows: [worker] });
    const run = await h.baton.start(worker, null);
    await expect(h.baton.cancel(run.runId, { children: 'orphan' as 'abandon' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: "children is 'cancel' or 'abandon', got 'orphan'.",
    });
    const bad = defineWorkflow('bad-parent', async (ctx) =>
      ctx.child(worker, null, { parentClose: 'terminate' as 'abandon' }).then(
        () => 'started',
        (error: unknown) => (error as Error).message,
      ),
    );
    const h2 = await start({ workflows: [bad, worker] });
    const badRun = await h2.baton.start(bad, null);
    expect(await badRun.result()).toBe(
      "parentClose of child workflow 'worker-child' is 'cancel' or 'abandon', got 'terminate'.",
    );
  });
});
