import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { BatonError } from '../src/errors.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { aborted, gate, harnessesClosedAfterEach, until } from './support/harness.ts';
import { eventTypes as types } from './support/journal-events.ts';

// A long lease: its heartbeat is far off, so pausing and cancelling must reach activations directly.
const { start } = harnessesClosedAfterEach((options) => ({
  ...options,
  worker: { leaseMs: 120_000, ...(options?.worker || {}) },
}));

describe('pause and resume', () => {
  it('a paused run is not taken up by its signal until it is resumed', async () => {
    const flow = workflow('wait', async (ctx) => ctx.waitFor<string>('go'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await h.settle(run.runId, 'waiting');
    expect((await h.baton.pause(run.runId)).paused).toBe(true);
    await h.baton.signal(run.runId, 'go', 'now');
    // Woken by the signal, but paused: no worker takes it (the worker keeps polling meanwhile).
    const woken = await until(
      async () => ((await run.get()).status === 'pending' ? run.get() : undefined),
      'the run to be woken',
    );
    expect(woken.paused).toBe(true);
    for (let poll = 0; poll < 5; poll++) {
      h.baton.worker?.notify();
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(types(await run.history())).toEqual(['run.started', 'signal.awaited']);
    expect(await h.store.claimRuns('probe', { limit: 10, leaseMs: 1000, now: h.clock.now() })).toEqual([]);
    await h.baton.resume(run.runId);
    expect(await run.result()).toBe('now');
  });

  it('pausing a running run releases it: its in-flight step is aborted, and runs again after the resume', async () => {
    const release = gate();
    const attempts: { attempt: number; aborted?: string }[] = [];
    const flow = workflow('long', async (ctx) =>
      ctx.step('work', async (info) => {
        const entry: { attempt: number; aborted?: string } = { attempt: attempts.length + 1 };
        attempts.push(entry);
        if (attempts.length === 1) {
          const reason = await aborted(info.signal);
          entry.aborted = BatonError.isInstance(reason) ? reason.code : String(reason);
          throw reason;
        }
        await release.promise;
        return 'done';
      }),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await until(() => attempts.length === 1, 'the step to start');
    await h.baton.pause(run.runId);
    await until(
      async () =>
        (await run.get()).status === 'pending' && (h.baton.worker?.activeRuns ?? 0) === 0 ? true : undefined,
      'the run to be released',
    );
    expect(attempts[0]!.aborted).toBe('RUN_PAUSED');
    expect(types(await run.history())).toEqual(['run.started']);

    await h.baton.resume(run.runId);
    await until(() => attempts.length === 2, 'the step to run again');
    release.open();
    expect(await run.result()).toBe('done');
    expect(types(await run.history())).toEqual(['run.started', 'step.completed', 'run.completed']);
  });

  it('refuses to pause or resume a finished run', async () => {
    const flow = workflow('quick', async () => 'ok');
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await run.result();
    await expect(h.baton.pause(run.runId)).rejects.toMatchObject({
      code: 'RUN_FINISHED',
      message: `Cannot pause run ${run.runId}: it has already completed.`,
    });
    await expect(h.baton.resume(run.runId)).rejects.toMatchObject({ code: 'RUN_NOT_RESUMABLE' });
    await expect(h.baton.pause('run_nope')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});

describe('cancellation', () => {
  it('reaches a tool in flight through its abort signal', async () => {
    const seen: unknown[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const exportTool = tool({
      name: 'reports.export',
      description: 'Exports a large report',
      input: z.object({ report: z.string() }),
      effect: 'read',
      execute: async (_args, { signal }) => {
        started();
        const reason = await aborted(signal);
        seen.push(reason);
        throw reason;
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'reports.export', args: { report: 'q3' } }] },
      'never reached',
    ]);
    const analyst = agent({
      name: 'analyst',
      description: 'Analyses',
      instructions: 'Export.',
      model,
      tools: [exportTool],
    });
    const flow = workflow('export', async (ctx) => ctx.runAgent(analyst, 'Export the Q3 report'));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, {});
    await running;
    await h.baton.cancel(run.runId, { reason: 'wrong quarter' });
    await expect(run.result()).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ code: 'CANCELLED' });
    const history = types(await run.history());
    expect(history).not.toContain('tool.called');
    expect(history).not.toContain('tool.failed');
    expect(history.at(-1)).toBe('run.cancelled');
    expect(model.calls).toHaveLength(1);
  });
});
