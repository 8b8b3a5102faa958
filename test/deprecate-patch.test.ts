import { describe, expect, it } from 'vitest';
import { defineWorkflow, type WorkflowDefinition } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { NewRun } from '../src/store/store.ts';
import { harness, type Harness, harnessesClosedAfterEach, ManualClock } from './support/harness.ts';
import { startedEvent } from '../src/testing/sealed-events.ts';

const HOUR = 60 * 60 * 1000;
const { open } = harnessesClosedAfterEach();

function markers(events: readonly JournalEvent[]): string[] {
  return events
    .filter((event) => event.type === 'patch.marked')
    .map((event) => (event.payload as { patchId: string }).patchId);
}

function steps(events: readonly JournalEvent[]): string[] {
  return events
    .filter((event) => event.type === 'step.completed')
    .map((event) => (event.payload as { name: string }).name);
}

async function deploy(store: SqliteStore, clock: ManualClock, flow: WorkflowDefinition) {
  const h = await harness({ store, clock, workflows: [flow] });
  open.push(h);
  return h;
}

async function retire(h: Harness): Promise<void> {
  open.splice(open.indexOf(h), 1);
  await h.close();
}

describe('one patch marker per id per run', () => {
  it('new runs journal one marker however often patched(id) is called; runs from before flag 1 keep one per call', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    const flow = defineWorkflow('repeat', async (ctx) => {
      const answers = [ctx.patched('v2'), ctx.patched('v2'), ctx.patched('v2')];
      await ctx.sleep('1h');
      answers.push(ctx.patched('v2'));
      return answers;
    });
    const h = await deploy(store, clock, flow);
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    // A run started by an engine without flag 1 (its run.started says so).
    const legacy: NewRun = {
      runId: 'run_legacy_patch_flags',
      workflow: 'repeat',
      tenant: 'default',
      principal: 'user:anonymous',
      input: null,
      createdAt: clock.now(),
    };
    await store.createRun(legacy, startedEvent(legacy));
    h.baton.worker?.notify();
    await h.settle(legacy.runId, 'waiting');
    h.advance(HOUR);
    // Both replay their histories after the sleep, each by its own flags.
    expect(await h.baton.result(run.runId)).toEqual([true, true, true, true]);
    expect(await h.baton.result(legacy.runId)).toEqual([true, true, true, true]);
    expect(markers(await store.readEvents(run.runId))).toEqual(['v2']);
    expect(markers(await store.readEvents(legacy.runId))).toEqual(['v2', 'v2', 'v2', 'v2']);
    await retire(h);
    await store.close();
  });
});

describe('the three-deploy life of a patch', () => {
  it('patched, then deprecated: runs marked by deploy 2 still replay on deploy 3, which writes no marker', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    // Deploy 1: charge, wait an hour, ship.
    const v1 = defineWorkflow('order', async (ctx) => {
      await ctx.step('charge', () => 'charged');
      await ctx.sleep('1h');
      await ctx.step('ship', () => 'shipped');
      return 'v1';
    });
    // Deploy 2: a fraud check before charging, for new runs only.
    const v2 = defineWorkflow('order', async (ctx) => {
      if (ctx.patched('fraud-check')) await ctx.step('fraud-check', () => 'ok');
      await ctx.step('charge', () => 'charged');
      await ctx.sleep('1h');
      await ctx.step('ship', () => 'shipped');
      return ctx.patched('fraud-check') ? 'v2 checked' : 'v2 unchecked';
    });
    // Deploy 3, once no run from deploy 1 is left: only the new branch.
    const v3 = defineWorkflow('order', async (ctx) => {
      ctx.deprecatePatch('fraud-check');
      await ctx.step('fraud-check', () => 'ok');
      await ctx.step('charge', () => 'charged');
      await ctx.sleep('1h');
      await ctx.step('ship', () => 'shipped');
      return 'v3';
    });

    const first = await deploy(store, clock, v1);
    const fromV1 = await first.baton.start(v1, null);
    await first.settle(fromV1.runId, 'waiting');
    await retire(first);

    const second = await deploy(store, clock, v2);
    const fromV2 = await second.baton.start(v2, null);
    await second.settle(fromV2.runId, 'waiting');
    second.advance(HOUR);
    // The deploy-1 run finishes on deploy 2, on the old branch.
    expect(await second.baton.result(fromV1.runId)).toBe('v2 unchecked');
    await second.settle(fromV2.runId, 'completed');
    expect(await second.baton.result(fromV2.runId)).toBe('v2 checked');
    // patched('fraud-check') was called twice; the run journals one marker.
    expect(markers(await store.readEvents(fromV2.runId))).toEqual(['fraud-check']);
    const parkedOnV2 = await second.baton.start(v2, null);
    await second.settle(parkedOnV2.runId, 'waiting');
    await retire(second);

    const third = await deploy(store, clock, v3);
    const fromV3 = await third.baton.start(v3, null);
    await third.settle(fromV3.runId, 'waiting');
    third.advance(HOUR);
    // The run deploy 2 marked replays on deploy 3: the marker is consumed where deprecatePatch is.
    expect(await third.baton.result(parkedOnV2.runId)).toBe('v3');
    expect(await third.baton.result(fromV3.runId)).toBe('v3');
    expect(markers(await store.readEvents(parkedOnV2.runId))).toEqual(['fraud-check']);
    expect(markers(await store.readEvents(fromV3.runId))).toEqual([]);
    expect(steps(await store.readEvents(fromV3.runId))).toEqual(['fraud-check', 'charge', 'ship']);
    await retire(third);
    await store.close();
  });

  it('a run that calls patched and deprecatePatch with one id fails with PatchMisuseError', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    const confused = defineWorkflow(
      'confused',
      async (ctx, input: { order: 'patched-first' | 'deprecated-first' }) => {
        if (input.order === 'patched-first') {
          ctx.patched('receipt');
          ctx.deprecatePatch('receipt');
        } else {
          ctx.deprecatePatch('receipt');
          ctx.patched('receipt');
        }
        return 'unreachable';
      },
    );
    const h = await deploy(store, clock, confused);
    for (const order of ['patched-first', 'deprecated-first'] as const) {
      const run = await h.baton.start(confused, { order });
      const failed = await h.settle(run.runId, 'failed');
      expect(failed.error).toMatchObject({ code: 'PATCH_MISUSE' });
      expect(failed.error?.message).toContain(
        `ctx.${order === 'patched-first' ? 'patched' : 'deprecatePatch'}('receipt') and then`,
      );
    }
    await retire(h);
    await store.close();
  });

  it('deprecating a patch a run never had is fine; an empty id is refused', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const clock = new ManualClock();
    const flow = defineWorkflow('plain', async (ctx) => {
      ctx.deprecatePatch('never-patched');
      ctx.deprecatePatch('never-patched');
      const answer = await ctx.step('work', () => 42);
      try {
        ctx.patched('');
      } catch (error) {
        return { answer, error: (error as { code: string }).code };
      }
      return { answer };
    });
    const h = await deploy(store, clock, flow);
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toEqual({ answer: 42, error: 'INVALID_ARGUMENT' });
    expect((await run.history()).map((event) => event.type)).toEqual([
      'run.started',
      'step.completed',
      'run.completed',
    ]);
    await retire(h);
    await store.close();
  });
});
