import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { WorkflowDefinition } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import type { RunRecord, Store } from '../src/store/store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

const { start, open } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

/**
 * A store whose next read of one run's history waits at a gate the test opens: the activation that
 * reads it is held between its claim and the start of the workflow's code.
 */
function gatedStore(inner: SqliteStore): {
  store: Store;
  hold(runId: string): { reached: Promise<void>; open: () => void };
} {
  let gate: { runId: string; reached: () => void; opened: Promise<void> } | undefined;
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property === 'readEvents') {
        return async (runId: string, ...rest: unknown[]) => {
          const held = gate?.runId === runId ? gate : undefined;
          if (held) {
            gate = undefined;
            held.reached();
            await held.opened;
          }
          return (target.readEvents as (...args: unknown[]) => unknown).call(target, runId, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as Store;
  return {
    store,
    hold(runId) {
      let reached!: () => void;
      let open!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { runId, reached, opened };
      return { reached: reachedPromise, open };
    },
  };
}

/**
 * Starts `flow`, lets it park, wakes it with a signal it does not wait for and cancels it while
 * that activation is held before reading its history; gives the run once it is cancelled.
 */
async function cancelWhileSettingUp(
  flow: WorkflowDefinition<null, unknown>,
  reason: string,
): Promise<{ ended: RunRecord; history: JournalEvent[] }> {
  const inner = SqliteStore.open({ path: ':memory:' });
  const gated = gatedStore(inner);
  const h = await start({ workflows: [flow], store: gated.store });
  try {
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    const held = gated.hold(run.runId);
    await h.baton.signal(run.runId, 'poke');
    await held.reached;
    await h.baton.cancel(run.runId, { reason });
    held.open();
    const ended = await h.settle(run.runId, 'cancelled');
    return { ended, history: await run.history() };
  } finally {
    open.splice(open.indexOf(h), 1);
    await h.close();
    await inner.close();
  }
}

describe('a cancel request that comes while an activation is being set up', () => {
  it('is told to the workflow once its code runs, so its cleanup runs', async () => {
    const cleaned: string[] = [];
    const flow = defineWorkflow('cleans-up-on-cancel', async (ctx) => {
      await ctx.step('work', () => 'done');
      try {
        await ctx.waitFor('go');
      } catch (error) {
        await ctx.nonCancellable(() => ctx.step('cleanup', () => void cleaned.push('cleaned')));
        throw error;
      }
    });
    const { ended, history: events } = await cancelWhileSettingUp(flow, 'no longer needed');
    expect(ended.status).toBe('cancelled');
    expect(cleaned).toEqual(['cleaned']);
    expect(types(events)).toContain('run.cancelRequested');
    expect(events.find((event) => event.type === 'run.cancelRequested')?.payload).toMatchObject({
      reason: 'no longer needed',
    });
    expect(events.filter((event) => event.type === 'step.completed')).toHaveLength(2);
    expect(events.at(-1)?.type).toBe('run.cancelled');
  });

  it('ends a run that lets CancelledError escape as cancelled', async () => {
    const flow = defineWorkflow('long-wait', async (ctx) => {
      await ctx.waitFor('go');
    });
    const { ended, history } = await cancelWhileSettingUp(flow, 'stop');
    expect(ended.status).toBe('cancelled');
    expect(history.at(-1)?.type).toBe('run.cancelled');
  });
});
