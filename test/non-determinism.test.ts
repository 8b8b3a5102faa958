import { afterEach, describe, expect, it } from 'vitest';
import type { WorkflowContext } from '../src/engine/context.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { harness, ManualClock, type Harness } from './support/harness.ts';

/**
 * A run is started on one version of a workflow and parked; then a process with changed code under
 * the same name resumes it. Changes the history cannot answer fail the run with NonDeterminismError.
 */
const stores: Store[] = [];
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const store of stores.splice(0)) await store.close();
});

async function startOnOldCode(
  oldCode: (ctx: WorkflowContext) => Promise<unknown>,
  before?: (h: Harness, runId: string) => Promise<void>,
): Promise<{ store: Store; clock: ManualClock; runId: string }> {
  const store = SqliteStore.open({ path: ':memory:' });
  stores.push(store);
  const clock = new ManualClock();
  const old = await harness({ store, clock, workflows: [defineWorkflow('orders', oldCode)] });
  const run = await old.baton.start('orders', null);
  await old.settle(run.runId, 'waiting');
  await before?.(old, run.runId);
  await old.close();
  return { store, clock, runId: run.runId };
}

async function resumeOnNewCode(
  parked: { store: Store; clock: ManualClock; runId: string },
  newCode: (ctx: WorkflowContext) => Promise<unknown>,
  wake: (h: Harness) => Promise<void> = async (h) => h.advance(60 * 60 * 1000),
): Promise<Harness> {
  const h = await harness({
    store: parked.store,
    clock: parked.clock,
    workflows: [defineWorkflow('orders', newCode)],
  });
  open.push(h);
  await wake(h);
  await h.settle(parked.runId, ['completed', 'failed']);
  return h;
}

describe('non-determinism', () => {
  it('a renamed step fails the run, naming the run, the seq, what the history holds and what the code asked for', async () => {
    const parked = await startOnOldCode(async (ctx) => {
      await ctx.step('charge-card', () => 'charged');
      await ctx.sleep('1h');
      return 'done';
    });
    const h = await resumeOnNewCode(parked, async (ctx) => {
      await ctx.step('charge-customer', () => 'charged');
      await ctx.sleep('1h');
      return 'done';
    });

    const run = await h.store.getRun(parked.runId);
    expect(run?.status).toBe('failed');
    expect(run?.error?.code).toBe('NON_DETERMINISM');
    expect(run?.error?.name).toBe('NonDeterminismError');
    const message = run!.error!.message;
    expect(message).toContain(parked.runId);
    expect(message).toContain('at seq 2');
    expect(message).toContain(`the history holds step 'charge-card'`);
    expect(message).toContain(`asks for step 'charge-customer'`);
    expect(h.logs.some((line) => line.includes(parked.runId) && line.includes('charge-customer'))).toBe(true);
    const events = await h.store.readEvents(parked.runId);
    expect(events.at(-1)?.type).toBe('run.failed');
  });

  it('a step replaced by another kind of call is detected', async () => {
    const parked = await startOnOldCode(async (ctx) => {
      await ctx.step('a', () => 1);
      await ctx.sleep('1h', 'cool-down');
      await ctx.step('b', () => 2);
      return 'done';
    });
    const h = await resumeOnNewCode(parked, async (ctx) => {
      await ctx.step('a', () => 1);
      await ctx.waitFor('cool-down');
      return 'done';
    });
    const run = await h.store.getRun(parked.runId);
    expect(run?.status).toBe('failed');
    expect(run?.error?.message).toContain(`the history holds sleep 'cool-down'`);
    expect(run?.error?.message).toContain(`asks for waitFor('cool-down')`);
    // seq 3 is the timer.set written when the old code parked.
    expect(run?.error?.message).toContain('at seq 3');
  });

  it('a step removed from the end of what already ran is detected when the workflow returns', async () => {
    const parked = await startOnOldCode(async (ctx) => {
      const go = ctx.waitFor<string>('go');
      await ctx.step('reserve', () => 'reserved');
      await ctx.step('notify', () => 'notified');
      return await go;
    });
    const notify = (await parked.store.readEvents(parked.runId)).find(
      (event) => event.type === 'step.completed' && (event.payload as { name: string }).name === 'notify',
    );
    expect(notify).toBeDefined();

    const h = await resumeOnNewCode(
      parked,
      async (ctx) => {
        const go = ctx.waitFor<string>('go');
        await ctx.step('reserve', () => 'reserved');
        return await go;
      },
      async (h) => void (await h.baton.signal(parked.runId, 'go', 'now')),
    );
    const run = await h.store.getRun(parked.runId);
    expect(run?.status).toBe('failed');
    expect(run?.error?.code).toBe('NON_DETERMINISM');
    expect(run?.error?.message).toContain(`at seq ${notify!.seq}`);
    expect(run?.error?.message).toContain(`the history holds step 'notify'`);
    expect(run?.error?.message).toContain('asks for the workflow to return');
  });

  it('a step inserted before recorded ones is detected', async () => {
    const parked = await startOnOldCode(async (ctx) => {
      await ctx.step('a', () => 1);
      await ctx.sleep('1h');
      return 'done';
    });
    const h = await resumeOnNewCode(parked, async (ctx) => {
      await ctx.step('audit', () => 0);
      await ctx.step('a', () => 1);
      await ctx.sleep('1h');
      return 'done';
    });
    const run = await h.store.getRun(parked.runId);
    expect(run?.status).toBe('failed');
    expect(run?.error?.message).toContain(`the history holds step 'a'`);
    expect(run?.error?.message).toContain(`asks for step 'audit'`);
  });

  it('a now() where a step was recorded is detected', async () => {
    const parked = await startOnOldCode(async (ctx) => {
      await ctx.step('a', () => 1);
      await ctx.sleep('1h');
      return 'done';
    });
    const h = await resumeOnNewCode(parked, async (ctx) => {
      ctx.now();
      await ctx.sleep('1h');
      return 'done';
    });
    const run = await h.store.getRun(parked.runId);
    expect(run?.status).toBe('failed');
    expect(run?.error?.message).toContain(`the history holds step 'a'`);
    expect(run?.error?.message).toContain('asks for now()');
  });

  it('unchanged code replays cleanly (the same test setup, no change)', async () => {
    const code = async (ctx: WorkflowContext): Promise<string> => {
      await ctx.step('a', () => 1);
      await ctx.sleep('1h');
      await ctx.step('b', () => 2);
      return 'done';
    };
    const parked = await startOnOldCode(code);
    const h = await resumeOnNewCode(parked, code);
    expect((await h.store.getRun(parked.runId))?.status).toBe('completed');
  });
});
