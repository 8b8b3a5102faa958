import { describe, expect, it } from 'vitest';
import { RunFailedError } from '../src/errors.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { aborted, gate, harnessesClosedAfterEach, until } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const HOUR = 60 * 60 * 1000;
// A long lease: its heartbeat (leaseMs / 3) is far off, so cancellation must reach activations directly.
const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

const square = defineWorkflow('square', async (ctx, n: number) => ctx.step('square', () => n * n));

describe('child runs', () => {
  it('child futures can be awaited later, after other work', async () => {
    const parent = defineWorkflow('sum-of-squares', async (ctx) => {
      const three = ctx.child(square, 3);
      const four = ctx.child(square, 4);
      const between = await ctx.step('between', () => 'did other work');
      const ids = [await three.runId, await four.runId];
      return { between, total: (await three) + (await four), ids };
    });
    const h = await start({ workflows: [parent, square] });
    const run = await h.baton.start(parent, null, { as: 'user:alice' });
    const result = await run.result();
    expect(result.total).toBe(25);
    expect(result.between).toBe('did other work');

    const children = await h.store.listRuns({ parentRunId: run.runId });
    expect(children.map((child) => child.runId).sort()).toEqual([...result.ids].sort());
    for (const child of children) {
      expect(child).toMatchObject({
        status: 'completed',
        parentRunId: run.runId,
        principal: 'user:alice',
        workflow: 'square',
      });
      const [started] = await h.store.readEvents(child.runId);
      expect(started?.onBehalfOf).toEqual(['workflow:sum-of-squares', 'user:alice']);
    }
    const events = await run.history();
    expect(types(events).filter((type) => type.startsWith('child.'))).toEqual(
      expect.arrayContaining(['child.started', 'child.started', 'child.completed', 'child.completed']),
    );
    expect(types(events).filter((type) => type.startsWith('child.'))).toHaveLength(4);
  });

  it('a parent awaiting a parked child parks too, and both resume when the child is signalled', async () => {
    const approval = defineWorkflow('approval', async (ctx) => ctx.waitFor<string>('decision'));
    const parent = defineWorkflow(
      'needs-approval',
      async (ctx) => `parent got ${await ctx.child(approval, null)}`,
    );
    const h = await start({ workflows: [parent, approval] });
    const run = await h.baton.start(parent, null);
    const [child] = await until(async () => {
      const children = await h.store.listRuns({ parentRunId: run.runId, status: ['waiting'] });
      return children.length === 1 ? children : undefined;
    }, 'the child to park');
    await h.settle(run.runId, 'waiting');
    expect(h.baton.worker?.activeRuns).toBe(0);
    await h.baton.signal(child!.runId, 'decision', 'yes');
    expect(await run.result()).toBe('parent got yes');
  });

  it('a replayed parent does not start its child again', async () => {
    let childRuns = 0;
    const counted = defineWorkflow('counted', async (ctx) => ctx.step('count', () => ++childRuns));
    const parent = defineWorkflow('starts-then-sleeps', async (ctx) => {
      const child = ctx.child(counted, null);
      await ctx.sleep('1h');
      return await child;
    });
    const h = await start({ workflows: [parent, counted] });
    const run = await h.baton.start(parent, null);
    await h.settle(run.runId, 'waiting');
    await until(
      async () => (await h.store.listRuns({ parentRunId: run.runId, status: ['completed'] })).length === 1,
      'the child',
    );
    h.advance(HOUR);
    expect(await run.result()).toBe(1);
    expect(await h.store.listRuns({ parentRunId: run.runId })).toHaveLength(1);
    expect(childRuns).toBe(1);
  });

  it('a failed child rejects the parent’s await with RunFailedError, which the parent may catch', async () => {
    const broken = defineWorkflow('broken', async (ctx) =>
      ctx.step(
        'explode',
        () => {
          throw new Error('kaboom');
        },
        { retry: { maxAttempts: 1 } },
      ),
    );
    const parent = defineWorkflow('survives-child', async (ctx) => {
      try {
        await ctx.child(broken, null);
        return { isRunFailed: false, message: 'the child did not fail' };
      } catch (error) {
        return { isRunFailed: error instanceof RunFailedError, message: (error as Error).message };
      }
    });
    const h = await start({ workflows: [parent, broken] });
    const run = await h.baton.start(parent, null);
    const result = await run.result();
    expect(result).toMatchObject({ isRunFailed: true });
    expect(result.message).toContain(`Step 'explode' failed after 1 attempt(s): Error: kaboom`);
    const failed = (await run.history()).find((event) => event.type === 'child.failed');
    expect(failed?.payload).toMatchObject({ status: 'failed', error: { code: 'STEP_FAILED' } });
  });
});

describe('cancellation', () => {
  it('cancelling a parked run ends it as cancelled, with the reason journaled', async () => {
    const flow = defineWorkflow('patient', async (ctx) => ctx.waitFor('never'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId, { reason: 'customer left' });
    await expect(run.result()).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    const events = await run.history();
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', payload: { reason: 'customer left' } });
  });

  it('cancelling without a reason journals none', async () => {
    const flow = defineWorkflow('patient-2', async (ctx) => ctx.waitFor('never'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId);
    await h.settle(run.runId, 'cancelled');
    expect((await run.history()).at(-1)).toMatchObject({ type: 'run.cancelled', payload: {} });
    expect((await run.history()).at(-1)?.payload).not.toHaveProperty('reason');
  });

  it('aborts an in-flight step through its AbortSignal', async () => {
    const started = gate();
    let stepSaw: unknown;
    const flow = defineWorkflow('long-call', async (ctx) =>
      ctx.step('call-model', async ({ signal }) => {
        started.open();
        stepSaw = await aborted(signal);
        throw signal.reason;
      }),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await started.promise;
    await h.baton.cancel(run.runId, { reason: 'too slow' });
    await h.settle(run.runId, 'cancelled');
    // The workflow sees CancelledError at the step's await (src/engine/cancellation-scope.ts).
    expect((stepSaw as Error).name).toBe('CancelledError');
    expect((stepSaw as Error).message).toBe(`Run ${run.runId} was cancelled: too slow.`);
    const events = await run.history();
    expect(types(events)).toEqual(['run.started', 'run.cancelRequested', 'op.cancelled', 'run.cancelled']);
    expect(events.at(-1)?.payload).toEqual({ reason: 'too slow' });
  });

  it('reaches children and grandchildren, parked or with a step in flight', async () => {
    const inFlight = gate();
    let grandchildStepSaw: unknown;
    const grandchild = defineWorkflow('grandchild', async (ctx) =>
      ctx.step('hang', async ({ signal }) => {
        inFlight.open();
        grandchildStepSaw = await aborted(signal);
        throw signal.reason;
      }),
    );
    const child = defineWorkflow('child', async (ctx) => {
      const nested = ctx.child(grandchild, null);
      await ctx.waitFor('never');
      return nested;
    });
    const parent = defineWorkflow('parent', async (ctx) => ctx.child(child, null));
    const h = await start({ workflows: [parent, child, grandchild] });
    const run = await h.baton.start(parent, null);
    await inFlight.promise;
    const [childRun] = await until(async () => {
      const runs = await h.store.listRuns({ parentRunId: run.runId, status: ['waiting'] });
      return runs.length ? runs : undefined;
    }, 'the child to park');
    const [grandchildRun] = await h.store.listRuns({ parentRunId: childRun!.runId });
    expect(grandchildRun?.status).toBe('running');

    await h.baton.cancel(run.runId, { reason: 'order withdrawn' });
    await h.settle(run.runId, 'cancelled');
    const childDone = await h.settle(childRun!.runId, 'cancelled');
    const grandchildDone = await h.settle(grandchildRun!.runId, 'cancelled');
    expect(childDone.metadata.cancelReason).toBe('the parent run was cancelled');
    expect(grandchildDone.metadata.cancelReason).toBe('the parent run was cancelled');
    expect((grandchildStepSaw as Error).name).toBe('CancelledError');
    for (const id of [run.runId, childRun!.runId, grandchildRun!.runId]) {
      expect((await h.store.readEvents(id)).at(-1)?.type).toBe('run.cancelled');
    }
  });

  it('cancellation requested by another process reaches a running step at the next heartbeat', async () => {
    const started = gate();
    let stepSaw: unknown;
    const flow = defineWorkflow('remote-cancel', async (ctx) =>
      ctx.step('hang', async ({ signal }) => {
        started.open();
        stepSaw = await aborted(signal);
        throw signal.reason;
      }),
    );
    const worker = await start({ workflows: [flow], worker: { leaseMs: 300 } });
    const client = await start({
      store: worker.store,
      clock: worker.clock,
      workflows: [flow],
      worker: false,
    });
    const run = await client.baton.start(flow, null);
    await started.promise;
    await client.baton.cancel(run.runId);
    await worker.settle(run.runId, 'cancelled');
    expect((stepSaw as Error).name).toBe('CancelledError');
  });

  it('refuses to cancel an unknown or a finished run', async () => {
    const flow = defineWorkflow('done-fast', async () => 'done');
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await run.result();
    await expect(h.baton.cancel(run.runId)).rejects.toMatchObject({
      code: 'RUN_FINISHED',
      message: `Cannot cancel run ${run.runId}: it has already completed.`,
    });
    await expect(h.baton.cancel('run_nope')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});
