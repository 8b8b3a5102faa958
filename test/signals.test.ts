import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../src/errors.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harnessesClosedAfterEach, until } from './support/harness.ts';

const HOUR = 60 * 60 * 1000;
const { start } = harnessesClosedAfterEach();

function received(events: readonly JournalEvent[]): JournalEvent<'signal.received'>[] {
  return events.filter((event): event is JournalEvent<'signal.received'> => event.type === 'signal.received');
}

describe('signals', () => {
  it('a parked waitFor resumes with the payload when the signal comes', async () => {
    const flow = defineWorkflow('approval', async (ctx) => {
      const decision = await ctx.waitFor<{ approved: boolean; by: string }>('decision');
      return decision.approved ? `approved by ${decision.by}` : 'denied';
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    expect(h.baton.worker?.activeRuns).toBe(0);
    await h.baton.signal(run.runId, 'decision', { approved: true, by: 'bob' }, { as: 'user:bob' });
    expect(await run.result()).toBe('approved by bob');
    const [event] = received(await run.history());
    expect(event?.payload).toMatchObject({ op: 1, name: 'decision', payload: { approved: true, by: 'bob' } });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
  });

  it('the journal names who sent each signal it received', async () => {
    const flow = defineWorkflow('who-said', async (ctx) => ctx.waitFor<string>('note'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null, { as: 'user:alice' });
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'note', 'ship it', { as: 'user:carol' });
    expect(await run.result()).toBe('ship it');
    const [event] = received(await run.history());
    expect(event?.payload.sentBy).toBe('user:carol');
  });

  it('a signal sent before the run waits for it is kept and delivered', async () => {
    const flow = defineWorkflow('early-bird', async (ctx) => {
      await ctx.sleep('1h');
      return ctx.waitFor<string>('reply');
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    // The signal wakes the run; it finds its sleep not over and parks again, keeping the signal.
    await h.baton.signal(run.runId, 'reply', 'sent early');
    const parked = await until(async () => {
      const record = await h.store.getRun(run.runId);
      return record?.status === 'waiting' && record.wakeGen === 1 && h.baton.worker?.activeRuns === 0
        ? record
        : undefined;
    }, 'the run to park again');
    expect(parked.wakeAt).toBe(h.clock.now() + HOUR);
    expect((await h.store.pendingSignals(run.runId)).map((signal) => signal.payload)).toEqual(['sent early']);
    h.advance(HOUR);
    expect(await run.result()).toBe('sent early');
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
  });

  it('a signal sent before any worker ran the run is delivered on its first activation', async () => {
    const flow = defineWorkflow('prepaid', async (ctx) => ctx.waitFor<number>('payment'));
    const client = await start({ workflows: [flow], worker: false });
    const run = await client.baton.start(flow, null);
    await client.baton.signal(run.runId, 'payment', 42);
    const worker = await start({ store: client.store, clock: client.clock, workflows: [flow] });
    expect(await worker.baton.result(run.runId)).toBe(42);
    expect(received(await run.history())).toHaveLength(1);
  });

  it('delivers signals of one name in the order sent, one per waitFor, and leaves other names alone', async () => {
    const flow = defineWorkflow('inbox', async (ctx) => {
      const first = await ctx.waitFor<string>('msg');
      const second = await ctx.waitFor<string>('msg');
      return [first, second];
    });
    const client = await start({ workflows: [flow], worker: false });
    const run = await client.baton.start(flow, null);
    await client.baton.signal(run.runId, 'other', 'x');
    await client.baton.signal(run.runId, 'msg', 'one');
    await client.baton.signal(run.runId, 'msg', 'two');
    await client.baton.signal(run.runId, 'msg', 'three');
    const worker = await start({ store: client.store, clock: client.clock, workflows: [flow] });
    expect(await worker.baton.result(run.runId)).toEqual(['one', 'two']);
    expect((await worker.store.pendingSignals(run.runId)).map((signal) => signal.payload)).toEqual([
      'x',
      'three',
    ]);
  });

  it('waitFor with a timeout throws WaitTimeoutError when it passes; a later signal goes to the next wait', async () => {
    const flow = defineWorkflow('impatient', async (ctx) => {
      let first: string;
      try {
        first = await ctx.waitFor<string>('reply', { timeout: '10m' });
      } catch (error) {
        first = error instanceof WaitTimeoutError ? `timed out: ${error.message}` : 'other error';
      }
      const second = await ctx.waitFor<string>('reply');
      return { first, second };
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    const parked = await h.settle(run.runId, 'waiting');
    expect(parked.wakeAt).toBe(h.clock.now() + 10 * 60_000);
    await h.advanceUntil(run.runId, 10 * 60_000, 'waiting');
    await h.baton.signal(run.runId, 'reply', 'late');
    expect(await run.result()).toEqual({
      first: `timed out: No signal 'reply' arrived within 600000 ms.`,
      second: 'late',
    });
    const types = (await run.history()).map((event) => event.type);
    expect(types.filter((type) => type.startsWith('signal.'))).toEqual([
      'signal.awaited',
      'signal.timedOut',
      'signal.awaited',
      'signal.received',
    ]);
  });

  it('a signal that comes before the timeout wins', async () => {
    const flow = defineWorkflow('in-time', async (ctx) => ctx.waitFor<string>('reply', { timeout: '10m' }));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'reply', 'just in time');
    expect(await run.result()).toBe('just in time');
    h.advance(HOUR);
    expect((await run.history()).some((event) => event.type === 'signal.timedOut')).toBe(false);
  });

  it('refuses a signal to an unknown run', async () => {
    const h = await start({ workflows: [] });
    await expect(h.baton.signal('run_does_not_exist', 'go')).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
      message: `No run with id 'run_does_not_exist'.`,
    });
  });

  it('refuses a signal to a finished run, saying so', async () => {
    const flow = defineWorkflow('quick', async () => 'done');
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await run.result();
    await expect(h.baton.signal(run.runId, 'go', 1)).rejects.toMatchObject({
      code: 'RUN_FINISHED',
      message: `Cannot signal run ${run.runId}: it has already completed.`,
    });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
  });

  it('refuses a signal to a run of another tenant as unknown', async () => {
    const flow = defineWorkflow('tenanted', async (ctx) => ctx.waitFor('go'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null, { tenant: 'acme' });
    await expect(h.baton.signal(run.runId, 'go', 1, { tenant: 'globex' })).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
    await h.baton.signal(run.runId, 'go', 1, { tenant: 'acme' });
    expect(await run.result()).toBe(1);
  });

  it('refuses a payload that is not JSON, naming the path, and keeps nothing', async () => {
    const flow = defineWorkflow('picky', async (ctx) => ctx.waitFor('go'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await expect(h.baton.signal(run.runId, 'go', { when: new Date(0) })).rejects.toMatchObject({
      code: 'NOT_SERIALIZABLE',
      path: '$.when',
    });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
  });
});
