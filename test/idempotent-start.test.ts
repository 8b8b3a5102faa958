import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';

const { start } = harnessesClosedAfterEach();

describe('idempotent start', () => {
  it('starting again with the same key returns the same run, which runs once', async () => {
    let executions = 0;
    const flow = defineWorkflow('charge', async (ctx, input: { cents: number }) =>
      ctx.step('charge', () => {
        executions++;
        return input.cents;
      }),
    );
    const h = await start({ workflows: [flow] });
    const first = await h.baton.start(flow, { cents: 500 }, { idempotencyKey: 'order-17' });
    const second = await h.baton.start(flow, { cents: 999 }, { idempotencyKey: 'order-17' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.runId).toBe(first.runId);
    expect(await second.result()).toBe(500);

    // Also after the run has finished.
    const third = await h.baton.start(flow, { cents: 1 }, { idempotencyKey: 'order-17' });
    expect(third).toMatchObject({ runId: first.runId, created: false });
    expect(await third.result()).toBe(500);

    expect(executions).toBe(1);
    expect(await h.store.listRuns({ workflow: 'charge' })).toHaveLength(1);
    expect((await first.history()).filter((event) => event.type === 'run.started')).toHaveLength(1);
  });

  it('concurrent starts with one key create one run', async () => {
    const flow = defineWorkflow('once', async () => 'ok');
    const h = await start({ workflows: [flow] });
    const handles = await Promise.all(
      Array.from({ length: 20 }, () => h.baton.start(flow, null, { idempotencyKey: 'same' })),
    );
    expect(new Set(handles.map((handle) => handle.runId)).size).toBe(1);
    expect(handles.filter((handle) => handle.created)).toHaveLength(1);
    expect(await h.store.listRuns()).toHaveLength(1);
  });

  it('keys are per tenant, and runs without a key are always new', async () => {
    const flow = defineWorkflow('tenanted', async () => 'ok');
    const h = await start({ workflows: [flow] });
    const acme = await h.baton.start(flow, null, { idempotencyKey: 'k', tenant: 'acme' });
    const globex = await h.baton.start(flow, null, { idempotencyKey: 'k', tenant: 'globex' });
    expect(globex.runId).not.toBe(acme.runId);
    expect(globex.created).toBe(true);
    const plain = [await h.baton.start(flow, null), await h.baton.start(flow, null)];
    expect(plain.every((handle) => handle.created)).toBe(true);
    expect(plain[0]!.runId).not.toBe(plain[1]!.runId);
    expect(await h.store.listRuns()).toHaveLength(4);
  });

  it('a start from another process with the same key finds the run', async () => {
    const flow = defineWorkflow('shared', async (ctx) => ctx.waitFor<string>('go'));
    const one = await start({ workflows: [flow] });
    const two = await start({ store: one.store, clock: one.clock, workflows: [flow], worker: false });
    const first = await one.baton.start(flow, null, { idempotencyKey: 'shared-key' });
    const again = await two.baton.start(flow, null, { idempotencyKey: 'shared-key' });
    expect(again).toMatchObject({ runId: first.runId, created: false });
    await two.baton.signal(again.runId, 'go', 'done');
    expect(await first.result()).toBe('done');
  });
});
