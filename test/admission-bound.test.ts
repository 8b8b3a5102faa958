import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { BatonError, OverloadedError } from '../src/errors.ts';
import { tempStore } from './support/harness.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const echo = defineWorkflow('admission.echo', async (ctx, input: { index: number }) =>
  ctx.step('echo', () => input.index),
);

const cleanup = cleanupsAfterEach();

describe('bounded admission', () => {
  it('refuses a burst beyond maxQueuedRuns with OverloadedError, writes nothing for it, and loses none admitted', async () => {
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const client = await Baton.open({ store, workflows: [echo], worker: false, maxQueuedRuns: 10 });
    cleanup.push(() => client.close());

    const burst = await Promise.allSettled(
      Array.from({ length: 25 }, (_, index) => client.start(echo, { index })),
    );
    const admitted = burst.flatMap((outcome, index) =>
      outcome.status === 'fulfilled' ? [{ index, runId: outcome.value.runId }] : [],
    );
    const refused = burst.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
    );
    expect(admitted).toHaveLength(10);
    expect(refused).toHaveLength(15);
    for (const error of refused) {
      expect(OverloadedError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: 'OVERLOADED', disposition: 'retryable', queued: 10, limit: 10 });
      expect((error as BatonError).retryAfterMs).toBeGreaterThan(0);
      expect((error as Error).message).toMatch(/maxQueuedRuns/);
    }
    // Nothing of the refused starts was written.
    expect(await store.listRuns({ limit: 100 })).toHaveLength(10);

    // A start repeated with the key of a queued run returns it even while full.
    const keyed = await Baton.open({ store, workflows: [echo], worker: false, maxQueuedRuns: 11 });
    cleanup.push(() => keyed.close());
    const first = await keyed.start(echo, { index: 100 }, { idempotencyKey: 'k' });
    const again = await keyed.start(echo, { index: 100 }, { idempotencyKey: 'k' });
    expect(again).toMatchObject({ runId: first.runId, created: false });

    // Every admitted run completes once a worker drains the queue; then starts are taken again.
    const worker = await Baton.open({ store, workflows: [echo], worker: { concurrency: 4, pollMs: 20 } });
    cleanup.push(() => worker.close());
    for (const { index, runId } of admitted)
      expect(await worker.result(runId, { timeout: '30s' })).toBe(index);
    expect(await worker.result(first.runId, { timeout: '30s' })).toBe(100);
    const later = await client.start(echo, { index: 7 });
    expect(await worker.result(later.runId, { timeout: '30s' })).toBe(7);
  });

  it('bounds each tenant apart with maxQueuedRunsPerTenant: one tenant’s burst does not close the door on another', async () => {
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const client = await Baton.open({ store, workflows: [echo], worker: false, maxQueuedRunsPerTenant: 3 });
    cleanup.push(() => client.close());
    const noisy = await Promise.allSettled(
      Array.from({ length: 6 }, (_, index) => client.start(echo, { index }, { tenant: 'noisy' })),
    );
    expect(noisy.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    const rejected = noisy.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'OVERLOADED', tenant: 'noisy' });
    expect((rejected.reason as Error).message).toMatch(/tenant 'noisy'.*maxQueuedRunsPerTenant/);
    const quiet = await client.start(echo, { index: 1 }, { tenant: 'quiet' });
    expect(quiet.created).toBe(true);
  });

  it('does not bound children: a run already admitted may start the children it needs', async () => {
    const child = defineWorkflow('admission.child', async (ctx, input: { index: number }) =>
      ctx.step('child', () => input.index),
    );
    const parent = defineWorkflow('admission.parent', async (ctx) => {
      const results = await Promise.all([0, 1, 2].map((index) => ctx.child(child, { index })));
      return results.reduce((sum, value) => sum + value, 0);
    });
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const baton = await Baton.open({
      store,
      workflows: [parent, child],
      maxQueuedRuns: 1,
      worker: { pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    const run = await baton.start(parent, {});
    expect(await run.result({ timeout: '30s' })).toBe(3);
  });
});
