import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';

const { start } = harnessesClosedAfterEach();

type Counter = { round: number; rounds: number; total: number };

/** Adds the round's number to a total, one run per round: a long job that sheds its history. */
const rounds = defineWorkflow('rounds', async (ctx, input: Counter) => {
  const added = await ctx.step('add', () => input.total + input.round);
  await ctx.setEvent('round', input.round);
  if (input.round < input.rounds)
    return ctx.continueAsNew({ ...input, round: input.round + 1, total: added });
  return { total: added, lastRun: ctx.runId };
});

function started(events: readonly JournalEvent[]): JournalEvent<'run.started'> {
  return events[0] as JournalEvent<'run.started'>;
}

describe('continue-as-new', () => {
  it('closes the run as continued, starts its successor linked both ways, and result() follows the chain', async () => {
    const h = await start({ workflows: [rounds] });
    const first = await h.baton.start(
      rounds,
      { round: 1, rounds: 4, total: 0 },
      { as: 'user:alice', tenant: 'acme', idempotencyKey: 'job-1', priority: 3 },
    );
    const result = await first.result();
    expect(result.total).toBe(1 + 2 + 3 + 4);

    // Walk the chain from the first run through the links its journal holds.
    const chain = [await h.baton.getRun(first.runId)];
    for (;;) {
      const run = chain[chain.length - 1]!;
      const events = await h.store.readEvents(run.runId);
      if (run.status !== 'continued') break;
      const last = events[events.length - 1] as JournalEvent<'run.continued'>;
      expect(last.type).toBe('run.continued');
      const next = await h.baton.getRun(last.payload.runId);
      expect(started(await h.store.readEvents(next.runId)).payload.continuedFrom).toBe(run.runId);
      chain.push(next);
    }
    expect(chain.map((run) => run.status)).toEqual(['continued', 'continued', 'continued', 'completed']);
    expect(chain[3]!.runId).toBe(result.lastRun);
    // Identity carried over; each run's journal is its own round only.
    for (const run of chain) {
      expect(run).toMatchObject({ principal: 'user:alice', tenant: 'acme', priority: 3, workflow: 'rounds' });
      expect((await h.store.readEvents(run.runId)).length).toBeLessThanOrEqual(5);
    }
    // The same idempotency key still names the chain: its result is the chain's.
    const again = await h.baton.start(
      rounds,
      { round: 1, rounds: 4, total: 0 },
      { tenant: 'acme', idempotencyKey: 'job-1' },
    );
    expect(again.created).toBe(false);
    expect(again.runId).toBe(first.runId);
    expect(await again.result()).toEqual(result);
    // Each run published its own round.
    expect(await h.baton.getEvent(chain[2]!.runId, 'round')).toBe(3);
  });

  it('carries the grant over to the successor', async () => {
    const h = await start({ workflows: [rounds] });
    const first = await h.baton.start(
      rounds,
      { round: 1, rounds: 2, total: 0 },
      { as: 'user:alice', grant: { actions: ['tool:search.*'], ttl: '1h' } },
    );
    const { lastRun } = (await first.result()) as { lastRun: string };
    const grants = await Promise.all(
      [first.runId, lastRun].map(async (runId) => started(await h.store.readEvents(runId)).payload.grant),
    );
    expect(grants[0]).toBeDefined();
    expect(grants[1]).toEqual(grants[0]);
  });

  it('a parent awaiting a child gets the result at the end of the child’s chain', async () => {
    const parent = defineWorkflow('parent', async (ctx) => {
      const child = ctx.child(rounds, { round: 1, rounds: 3, total: 10 });
      const output = await child;
      return { total: output.total, first: await child.runId };
    });
    const h = await start({ workflows: [parent, rounds] });
    const run = await h.baton.start(parent, null);
    const output = await run.result();
    expect(output.total).toBe(16);
    expect((await h.baton.getRun(output.first)).status).toBe('continued');
  });

  it('refuses continue-as-new from inside a step, and an input over the payload limit', async () => {
    const misplaced = defineWorkflow('misplaced', async (ctx) => {
      await ctx.step('work', () => ctx.continueAsNew({ again: true }));
      return 'unreachable';
    });
    const oversized = defineWorkflow('oversized-successor', async (ctx) => {
      try {
        await ctx.continueAsNew({ blob: 'x'.repeat(5000) });
      } catch (error) {
        return (error as { code: string }).code;
      }
      return 'unreachable';
    });
    const h = await start({ workflows: [misplaced, oversized], maxPayloadBytes: 1000 });
    const bad = await h.baton.start(misplaced, null);
    const failed = await h.settle(bad.runId, 'failed');
    expect(failed.error?.message).toContain("called ctx.continueAsNew inside step 'work'");
    const events = await h.store.readEvents(bad.runId);
    // Not retried: the step failed on its first attempt, and no successor started.
    expect(events.filter((event) => event.type === 'step.failed')).toHaveLength(1);
    expect(events.some((event) => event.type === 'run.continued')).toBe(false);
    const big = await h.baton.start(oversized, null);
    expect(await big.result()).toBe('PAYLOAD_TOO_LARGE');
  });
});
