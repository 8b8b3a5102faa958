import { describe, expect, it } from 'vitest';
import { CancelledError } from '../src/engine/cancellation-scope.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { JOURNAL_FORMAT } from '../src/journal/events.ts';
import { GENESIS_HASH, sealEvent } from '../src/journal/hash-chain.ts';
import { replay } from '../src/replay.ts';
import { aborted, gate, harnessesClosedAfterEach, until } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

// A long lease: its heartbeat is far off, so a cancel must reach the activation directly.
const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

/** A hold on stock that must be released however the order ends. */
function holdsStock(released: string[]) {
  return defineWorkflow('hold-stock', async (ctx, input: { order: string }) => {
    await ctx.step('hold', () => `hold-${input.order}`);
    try {
      return await ctx.waitFor<string>('paid');
    } finally {
      await ctx.nonCancellable(() => ctx.step('release', () => void released.push(input.order)));
    }
  });
}

describe('cancellation a workflow can handle', () => {
  it('a parked run is woken, sees CancelledError at its await, cleans up durably, and ends as cancelled', async () => {
    const released: string[] = [];
    const flow = holdsStock(released);
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, { order: 'o-1' });
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId, { reason: 'customer left', as: 'user:bob' });
    await expect(run.result()).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(released).toEqual(['o-1']);
    const events = await run.history();
    expect(types(events)).toEqual([
      'run.started',
      'step.completed',
      'signal.awaited',
      'run.cancelRequested',
      'op.cancelled',
      'step.completed',
      'run.cancelled',
    ]);
    expect(events[3]).toMatchObject({ payload: { reason: 'customer left', by: 'user:bob', ops: 2 } });
    expect(events[4]).toMatchObject({
      payload: { op: 2, describe: 'signal:paid', scope: 'run', reason: 'customer left', by: 'user:bob' },
    });
    expect(events.at(-1)).toMatchObject({ payload: { reason: 'customer left', by: 'user:bob' } });
    const record = await run.get();
    expect(record).toMatchObject({
      status: 'cancelled',
      metadata: { cancelReason: 'customer left', cancelledBy: 'user:bob' },
    });

    // Replay raises CancelledError at the same await and takes the same cleanup from the journal.
    const report = await replay(events, flow);
    expect(report.ok, report.divergence?.message).toBe(true);
    expect(released).toEqual(['o-1']);
  });

  it('a workflow that catches the cancellation decides how the run ends: here, completed', async () => {
    const flow = defineWorkflow('gives-up-gracefully', async (ctx) => {
      try {
        await ctx.sleep('1d', 'cool-off');
        return 'slept';
      } catch (error) {
        if (!CancelledError.isInstance(error)) throw error;
        const note = await ctx.nonCancellable(() => ctx.step('note', () => `stopped: ${error.reason}`));
        return note;
      }
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId, { reason: 'no longer needed' });
    expect(await run.result()).toBe('stopped: no longer needed');
    const events = await run.history();
    // The timer is journaled as cancelled.
    expect(events.find((event) => event.type === 'op.cancelled')).toMatchObject({
      payload: { op: 1, describe: 'timer:cool-off', scope: 'run' },
    });
    expect(types(events).at(-1)).toBe('run.completed');
    expect((await run.get()).status).toBe('completed');
  });

  it('a step in flight sees its abort signal fire, and the workflow its CancelledError at once', async () => {
    const running = gate();
    let stepSaw: unknown;
    const flow = defineWorkflow('long-call', async (ctx) => {
      try {
        return await ctx.step('call-model', async ({ signal }) => {
          running.open();
          stepSaw = await aborted(signal);
          return 'late answer';
        });
      } catch (error) {
        throw CancelledError.isInstance(error) ? new Error(`gave up: ${error.message}`) : error;
      }
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await running.promise;
    await h.baton.cancel(run.runId, { reason: 'too slow', as: 'user:ops' });
    // The workflow turned the cancellation into a failure of its own: the run failed.
    await expect(run.result()).rejects.toMatchObject({
      message: expect.stringContaining(`gave up: Run ${run.runId} was cancelled by user:ops: too slow.`),
    });
    expect((await run.get()).status).toBe('failed');
    expect(CancelledError.isInstance(stepSaw)).toBe(true);
    // The step's late answer is not journaled: the op ended as cancelled.
    expect(types(await run.history())).toEqual([
      'run.started',
      'run.cancelRequested',
      'op.cancelled',
      'run.failed',
    ]);
  });

  it('an op asked for after the cancellation fails at once, unless it is in a non-cancellable scope', async () => {
    const flow = defineWorkflow('after-cancel', async (ctx) => {
      try {
        await ctx.waitFor('go');
      } catch {
        // swallowed: the next op is in the cancelled run's scope
      }
      const refused = await ctx.step('refused', () => 'ran').catch((error: unknown) => (error as Error).name);
      const allowed = await ctx.nonCancellable(() => ctx.step('allowed', () => 'ran'));
      return { refused, allowed, cancelled: ctx.cancellation.cancelled };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.cancel(run.runId);
    expect(await run.result()).toEqual({ refused: 'CancelledError', allowed: 'ran', cancelled: true });
    const steps = (await run.history()).filter((event) => event.type === 'step.completed');
    expect(steps.map((event) => event.payload.name)).toEqual(['allowed']);
  });

  it('cleanup that waits parks the run; a second cancel changes nothing; the cleanup ends the run', async () => {
    const flow = defineWorkflow('waits-to-clean-up', async (ctx) => {
      try {
        await ctx.waitFor('paid');
      } catch (error) {
        const ack = await ctx.nonCancellable(() => ctx.waitFor<string>('refund-confirmed'));
        throw new Error(`${(error as Error).name} then ${ack}`);
      }
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    const before = (await run.get()).lastSeq;
    await h.baton.cancel(run.runId, { reason: 'first' });
    await h.settle(run.runId, 'waiting', before);
    await h.baton.cancel(run.runId, { reason: 'second' });
    await until(
      async () => (await run.get()).status === 'waiting' && (h.baton.worker?.activeRuns ?? 0) === 0,
      'the run to park again',
    );
    await h.baton.signal(run.runId, 'refund-confirmed', 'refunded');
    await expect(run.result()).rejects.toMatchObject({
      message: expect.stringContaining('CancelledError then refunded'),
    });
    const events = await run.history();
    expect(types(events).filter((type) => type === 'run.cancelRequested')).toHaveLength(1);
    expect(events.find((event) => event.type === 'run.cancelRequested')?.payload).toEqual({
      reason: 'first',
      ops: 1,
    });
  });

  it('a run started by an older engine (without flag 1) is stopped where it is, as before', async () => {
    const cleanups: string[] = [];
    const flow = defineWorkflow('legacy', async (ctx) => {
      try {
        await ctx.waitFor('never');
      } finally {
        cleanups.push('cleanup ran');
      }
    });
    const h = await start({ workflows: [flow] });
    // A run as an engine before flag 1 started it: its run.started records no flags.
    const now = h.clock.now();
    const started = sealEvent<'run.started'>({
      runId: 'run_legacy',
      seq: 1,
      type: 'run.started',
      at: new Date(now).toISOString(),
      actor: 'user:anonymous',
      onBehalfOf: [],
      payload: { workflow: 'legacy', input: null, format: JOURNAL_FORMAT, flags: [] },
      prevHash: GENESIS_HASH,
    });
    await h.store.createRun(
      {
        runId: 'run_legacy',
        workflow: 'legacy',
        tenant: 'default',
        principal: 'user:anonymous',
        input: null,
        createdAt: now,
      },
      started,
    );
    h.baton.worker?.notify();
    await h.settle('run_legacy', 'waiting');
    await h.baton.cancel('run_legacy', { reason: 'old style' });
    await h.settle('run_legacy', 'cancelled');
    expect(cleanups).toEqual([]);
    expect(types(await h.baton.history('run_legacy'))).toEqual([
      'run.started',
      'signal.awaited',
      'run.cancelled',
    ]);
  });
});
