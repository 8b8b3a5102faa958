import { describe, expect, it } from 'vitest';
import type { WorkflowContext } from '../src/engine/context.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harness, harnessesClosedAfterEach, ManualClock } from './support/harness.ts';

const HOUR = 60 * 60 * 1000;
const { open } = harnessesClosedAfterEach();

function stepNames(events: readonly JournalEvent[]): string[] {
  return events
    .filter((event) => event.type === 'step.completed')
    .map((event) => (event.payload as { name: string }).name);
}

describe('ctx.patched versioning', () => {
  it('old histories keep the old path, new runs take the new one, and both replay', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    const ran: string[] = [];
    const step = (ctx: WorkflowContext, name: string) => ctx.step(name, () => void ran.push(name));

    // Version 1: reserve, sleep, charge, sleep, ship.
    const v1 = defineWorkflow('fulfil', async (ctx) => {
      await step(ctx, 'reserve');
      await ctx.sleep('1h');
      await step(ctx, 'charge');
      await ctx.sleep('1h');
      await step(ctx, 'ship');
      return 'v1';
    });
    // Version 2 adds a fraud check before charging, behind a patch marker.
    const v2 = defineWorkflow('fulfil', async (ctx) => {
      await step(ctx, 'reserve');
      await ctx.sleep('1h');
      if (ctx.patched('fraud-check')) await step(ctx, 'fraud-check');
      await step(ctx, 'charge');
      await ctx.sleep('1h');
      await step(ctx, 'ship');
      return ctx.patched('fraud-check-2') ? 'v2-new' : 'v2';
    });

    const old = await harness({ store, clock, workflows: [v1] });
    const oldRun = await old.baton.start(v1, null);
    await old.settle(oldRun.runId, 'waiting');
    // Past the point where v2 adds its check: the history has 'charge' where v2 has the marker.
    await old.advanceUntil(oldRun.runId, HOUR, 'waiting');
    expect(stepNames(await store.readEvents(oldRun.runId))).toEqual(['reserve', 'charge']);
    await old.close();

    const h = await harness({ store, clock, workflows: [v2] });
    open.push(h);
    const newRun = await h.baton.start(v2, null);
    await h.settle(newRun.runId, 'waiting'); // on its first sleep, before the patch point
    await h.advanceUntil(newRun.runId, HOUR, 'waiting'); // past the patch, on its second sleep
    h.advance(HOUR);

    expect(await h.baton.result(oldRun.runId)).toBe('v2-new');
    expect(await h.baton.result(newRun.runId)).toBe('v2-new');
    expect(stepNames(await store.readEvents(oldRun.runId))).toEqual(['reserve', 'charge', 'ship']);
    expect(stepNames(await store.readEvents(newRun.runId))).toEqual([
      'reserve',
      'fraud-check',
      'charge',
      'ship',
    ]);
    const markers = (await store.readEvents(newRun.runId)).filter((event) => event.type === 'patch.marked');
    expect(markers.map((event) => (event.payload as { patchId: string }).patchId)).toEqual([
      'fraud-check',
      'fraud-check-2',
    ]);
    expect(ran.filter((name) => name === 'fraud-check')).toHaveLength(1);
    await h.close();
    open.length = 0;
    await store.close();
  });

  it('without the marker, the same change fails old runs with NonDeterminismError', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    const v1 = defineWorkflow('fulfil', async (ctx) => {
      await ctx.step('reserve', () => 1);
      await ctx.step('charge', () => 2);
      await ctx.sleep('1h');
      return 'v1';
    });
    const v2 = defineWorkflow('fulfil', async (ctx) => {
      await ctx.step('reserve', () => 1);
      await ctx.step('fraud-check', () => 0);
      await ctx.step('charge', () => 2);
      await ctx.sleep('1h');
      return 'v2';
    });
    const old = await harness({ store, clock, workflows: [v1] });
    const run = await old.baton.start(v1, null);
    await old.settle(run.runId, 'waiting');
    await old.close();
    const h = await harness({ store, clock, workflows: [v2] });
    h.advance(HOUR);
    const failed = await h.settle(run.runId, 'failed');
    expect(failed.error?.code).toBe('NON_DETERMINISM');
    await h.close();
    await store.close();
  });

  it('a run that took the new path replays it after a restart, even when the marker is the last thing it wrote', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    let checks = 0;
    const v2 = defineWorkflow('fulfil', async (ctx) => {
      if (ctx.patched('wait-first')) await ctx.sleep('1h');
      await ctx.step('check', () => ++checks);
      return 'done';
    });
    const first = await harness({ store, clock, workflows: [v2] });
    const run = await first.baton.start(v2, null);
    await first.settle(run.runId, 'waiting');
    await first.close();
    const second = await harness({ store, clock, workflows: [v2] });
    second.advance(HOUR);
    expect(await second.baton.result(run.runId)).toBe('done');
    expect(checks).toBe(1);
    const types = (await store.readEvents(run.runId)).map((event) => event.type);
    expect(types).toEqual([
      'run.started',
      'patch.marked',
      'timer.set',
      'timer.fired',
      'step.completed',
      'run.completed',
    ]);
    await second.close();
    await store.close();
  });
});
