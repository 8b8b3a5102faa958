import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harnessesClosedAfterEach, until } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

const waiter = defineWorkflow('waiter', async (ctx) => ctx.waitFor<string>('go'));

describe('run timeouts and deadlines', () => {
  it('a run past its deadline ends timed_out (not failed), with run.timedOut journaled', async () => {
    const h = await start({ workflows: [waiter] });
    const run = await h.baton.start(waiter, null, { timeout: '1h' });
    await h.settle(run.runId, 'waiting');
    const ended = await h.advanceUntil(run.runId, HOUR + 1, 'timed_out');
    expect(ended.error).toMatchObject({ code: 'RUN_TIMEOUT', name: 'RunTimeoutError' });
    const events = await run.history();
    expect(types(events)).toEqual(['run.started', 'signal.awaited', 'run.timedOut']);
    expect((events.at(-1) as JournalEvent<'run.timedOut'>).payload).toMatchObject({
      timeoutMs: HOUR,
      error: { code: 'RUN_TIMEOUT' },
    });
    await expect(run.result()).rejects.toMatchObject({ code: 'RUN_TIMEOUT', name: 'RunFailedError' });
    // The status is a filter of its own, and a finished status: signals are refused.
    expect((await h.baton.listRuns({ status: ['timed_out'] })).map((r) => r.runId)).toEqual([run.runId]);
    expect(await h.baton.listRuns({ status: ['failed'] })).toEqual([]);
    await expect(h.baton.signal(run.runId, 'go', 'late')).rejects.toMatchObject({ code: 'RUN_FINISHED' });
  });

  it('children inherit what is left of the parent’s deadline, and are cancelled when it passes', async () => {
    const parent = defineWorkflow('parent-with-deadline', async (ctx) => {
      await ctx.sleep('10m', 'prepare');
      return ctx.child(waiter, null, { timeout: '2h' });
    });
    const h = await start({ workflows: [parent, waiter] });
    const run = await h.baton.start(parent, null, { timeout: '1h' });
    const created = (await run.get()).deadlineAt!;
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, 10 * MINUTE, 'waiting');
    const [child] = await until(async () => {
      const children = await h.store.listRuns({ parentRunId: run.runId, status: ['waiting'] });
      return children.length === 1 ? children : undefined;
    }, 'the child to park');
    // 50 minutes were left of the parent's hour: the child's own 2 h cannot outlast them.
    expect(child!.deadlineAt).toBe(created);
    const [started] = await h.store.readEvents(child!.runId);
    expect((started as JournalEvent<'run.started'>).payload.timeoutMs).toBe(50 * MINUTE);
    await h.advanceUntil(run.runId, 50 * MINUTE + 1, 'timed_out');
    const childEnded = await h.settle(child!.runId, ['timed_out', 'cancelled']);
    expect(['timed_out', 'cancelled']).toContain(childEnded.status);
  });

  it('a fork takes a new timeout', async () => {
    const h = await start({ workflows: [waiter] });
    const run = await h.baton.start(waiter, null, { timeout: '1h' });
    await h.settle(run.runId, 'waiting');
    await h.advanceUntil(run.runId, HOUR + 1, 'timed_out');
    const fork = await h.baton.fork(run.runId, { at: 2, timeout: '3h' });
    const forked = await fork.get();
    expect(forked.deadlineAt).toBe(h.clock.now() + 3 * HOUR);
    const [started] = await fork.history();
    expect((started as JournalEvent<'run.started'>).payload.timeoutMs).toBe(3 * HOUR);
    await h.settle(fork.runId, 'waiting');
    await h.baton.signal(fork.runId, 'go', 'in time');
    expect(await fork.result()).toBe('in time');
  });
});
