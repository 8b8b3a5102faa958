import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow as agentWorkflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import type { WorkflowContext } from '../src/engine/context.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { HistoryFormatError, InvalidHistoryError } from '../src/explain/explain-errors.ts';
import { replay } from '../src/replay.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { docsLookup } from './support/docs-tools.ts';
import { harness, harnessesClosedAfterEach } from './support/harness.ts';

const HOUR = 3_600_000;
const { open } = harnessesClosedAfterEach();

/** Counts every step function that runs, so a replay that ran one is caught. */
const ran: string[] = [];
const step = (ctx: WorkflowContext, name: string): Promise<string> =>
  ctx.step(name, () => (ran.push(name), `${name} done`));

// Version 1 of an order workflow, and the changes a team might make to it.
const v1 = defineWorkflow('fulfil', async (ctx) => {
  await step(ctx, 'reserve');
  await step(ctx, 'charge');
  await step(ctx, 'ship');
  return 'shipped';
});
const unguarded = defineWorkflow('fulfil', async (ctx) => {
  await step(ctx, 'reserve');
  await step(ctx, 'fraud-check');
  await step(ctx, 'charge');
  await step(ctx, 'ship');
  return 'shipped';
});
const guarded = defineWorkflow('fulfil', async (ctx) => {
  await step(ctx, 'reserve');
  if (ctx.patched('fraud-check')) await step(ctx, 'fraud-check');
  await step(ctx, 'charge');
  await step(ctx, 'ship');
  return 'shipped';
});
const moreAtTheEnd = defineWorkflow('fulfil', async (ctx) => {
  await step(ctx, 'reserve');
  await step(ctx, 'charge');
  await step(ctx, 'ship');
  await step(ctx, 'send-receipt');
  return 'shipped';
});
const fewer = defineWorkflow('fulfil', async (ctx) => {
  await step(ctx, 'reserve');
  await step(ctx, 'charge');
  return 'shipped';
});
const otherResult = defineWorkflow('fulfil', async (ctx) => {
  await step(ctx, 'reserve');
  await step(ctx, 'charge');
  await step(ctx, 'ship');
  return 'delivered';
});

async function recordedHistory(definition = v1): Promise<JournalEvent[]> {
  const h = await harness({ workflows: [definition] });
  open.push(h);
  const run = await h.baton.start(definition, { order: 'A-1' });
  await run.result();
  return run.history();
}

describe('replay against new code', () => {
  it('replays the code that wrote the history cleanly, running nothing', async () => {
    const history = await recordedHistory();
    ran.length = 0;
    const report = await replay(history, v1);
    expect(report).toMatchObject({
      ok: true,
      recorded: 'completed',
      replayed: 'completed',
      result: 'shipped',
      events: 5,
      ops: 3,
    });
    expect(report.divergence).toBeUndefined();
    expect(ran).toEqual([]);
  });

  it('reports the exact divergence of an unguarded change: seq, op, what the history holds, what the code asks for', async () => {
    const history = await recordedHistory();
    ran.length = 0;
    const report = await replay(history, unguarded);
    expect(report.ok).toBe(false);
    const charge = history.find(
      (event) => event.type === 'step.completed' && (event.payload as { name: string }).name === 'charge',
    )!;
    expect(report.divergence).toEqual({
      kind: 'mismatch',
      seq: charge.seq,
      op: 2,
      recorded: "step 'charge'",
      requested: "step 'fraud-check'",
      message: expect.stringMatching(
        new RegExp(
          `at seq ${charge.seq}: the history holds step 'charge', but the workflow code now asks for step 'fraud-check'`,
        ),
      ),
    });
    expect(ran).toEqual([]);
  });

  it('replays a change guarded with ctx.patched cleanly; new runs take the new path and replay too', async () => {
    const old = await recordedHistory();
    expect(await replay(old, guarded)).toMatchObject({ ok: true, replayed: 'completed' });

    const fresh = await recordedHistory(guarded);
    expect(fresh.map((event) => event.type)).toContain('patch.marked');
    expect(await replay(fresh, guarded)).toMatchObject({ ok: true });
    // The new history does not replay on the old code: the marker sits where v1 charges.
    const back = await replay(fresh, v1);
    expect(back.divergence).toMatchObject({
      kind: 'mismatch',
      op: 2,
      recorded: "patched('fraud-check')",
      requested: "step 'charge'",
    });
  });

  it('reports code that asks for more than a finished run did, and code that stops short', async () => {
    const history = await recordedHistory();
    const completed = history.at(-1)!;
    const extra = await replay(history, moreAtTheEnd);
    expect(extra.divergence).toMatchObject({
      kind: 'extra',
      op: 4,
      recorded: `the run to end at seq ${completed.seq} (run.completed)`,
      requested: "step 'send-receipt'",
    });
    expect(extra.divergence!.seq).toBeUndefined();

    const missing = await replay(history, fewer);
    const ship = history.find((event) => (event.payload as { name?: string }).name === 'ship')!;
    expect(missing.divergence).toMatchObject({
      kind: 'missing',
      seq: ship.seq,
      recorded: "step 'ship'",
      requested: 'the workflow to return',
    });
  });

  it('reports a different result, unless told not to compare results', async () => {
    const history = await recordedHistory();
    const report = await replay(history, otherResult);
    expect(report.divergence).toMatchObject({
      kind: 'result',
      seq: history.at(-1)!.seq,
      recorded: '"shipped"',
      requested: '"delivered"',
    });
    expect((await replay(history, otherResult, { checkResult: false })).ok).toBe(true);
  });

  it('replays a run still in flight up to its end and says what the code asks for next', async () => {
    const waiting = defineWorkflow('fulfil', async (ctx) => {
      await step(ctx, 'reserve');
      const approval = await ctx.waitFor<{ ok: boolean }>('approve');
      await ctx.sleep('1h', 'cool-off');
      await step(ctx, approval.ok ? 'charge' : 'refund');
      return 'shipped';
    });
    const h = await harness({ workflows: [waiting] });
    open.push(h);
    const run = await h.baton.start(waiting, {});
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'approve', { ok: true });
    await h.settle(run.runId, 'waiting', 3);
    const history = await run.history();
    ran.length = 0;
    const report = await replay(history, waiting);
    expect(report).toMatchObject({ ok: true, recorded: 'unfinished', replayed: 'waiting' });
    expect(report.next).toBeUndefined(); // it waits on the recorded timer, which has not fired
    // Past the timer, the code asks for the charge: not a divergence of a run in flight.
    h.advance(HOUR);
    await h.settle(run.runId, 'completed');
    const done = await run.history();
    const cut = done.slice(0, done.findIndex((event) => event.type === 'timer.fired') + 1);
    ran.length = 0;
    expect(await replay(cut, waiting)).toMatchObject({ ok: true, next: { op: 4, wants: "step 'charge'" } });
    expect(ran).toEqual([]);
  });

  it('refuses a history written by a newer journal format, and what is not a history', async () => {
    const history = await recordedHistory();
    const newer = history.map((event, index) =>
      index === 0 && event.type === 'run.started'
        ? { ...event, payload: { ...event.payload, format: 99 } }
        : event,
    );
    await expect(replay(newer, v1)).rejects.toThrow(HistoryFormatError);
    await expect(replay(newer, v1)).rejects.toThrow(
      /journal format 99, newer than this Baton reads \(format 1\)/,
    );
    await expect(replay(history.slice(1), v1)).rejects.toThrow(InvalidHistoryError);
    await expect(
      replay(
        history,
        defineWorkflow('other', async () => null),
      ),
    ).rejects.toThrow(/history is of workflow 'fulfil', not 'other'/);
  });

  it('replays an agent run without calling the model or running a tool', async () => {
    let lookups = 0;
    const lookup = docsLookup((word) => (lookups++, `meaning of ${word}`));
    const model = scriptedModel([
      { toolCalls: [{ name: 'docs.lookup', args: { word: 'baton' } }] },
      'A baton is a relay stick.',
    ]);
    const reader = agent({
      name: 'reader',
      description: 'Reads',
      instructions: 'Look words up.',
      model,
      tools: [lookup],
    });
    const flow = agentWorkflow('define', async (ctx) => ctx.runAgent(reader, 'Define baton'));
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe('A baton is a relay stick.');
    expect([model.calls.length, lookups]).toEqual([2, 1]);

    const report = await h.baton.replay(run.runId);
    expect(report).toMatchObject({ ok: true, replayed: 'completed', result: 'A baton is a relay stick.' });
    expect([model.calls.length, lookups]).toEqual([2, 1]);

    // The agent now gets another tool first: the journal's tool call no longer matches.
    const other = tool({
      name: 'docs.search',
      description: 'Searches',
      input: z.object({ q: z.string() }),
      effect: 'read',
      execute: async () => [],
    });
    const changed = agentWorkflow('define', async (ctx) => {
      await ctx.step('warm-up', () => null);
      return ctx.runAgent(
        agent({
          name: 'reader',
          description: 'Reads',
          instructions: 'Look words up.',
          model,
          tools: [lookup, other],
        }),
        'Define baton',
      );
    });
    const diverged = await replay(await run.history(), changed);
    expect(diverged.divergence).toMatchObject({
      kind: 'mismatch',
      op: 1,
      recorded: "agent 'reader'",
      requested: "step 'warm-up'",
    });
    expect([model.calls.length, lookups]).toEqual([2, 1]);
  });
});
