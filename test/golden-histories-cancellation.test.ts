import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { parseHistory } from '../src/explain/history-document.ts';
import { verifyChain } from '../src/journal/hash-chain.ts';
import { replayHistories } from '../src/testing/index.ts';
import { goldenCancellationWorkflows } from './fixtures/golden-cancellation-workflows.ts';

// Histories recorded with engine flag 1 and exported with `baton export --format`, kept read-only:
// each holds one of the event types of cancellation, timeouts and resume in place.
const GOLDEN = fileURLToPath(new URL('./fixtures/golden-histories-cancellation', import.meta.url));

describe('golden histories of cancellation, timeouts and resume in place', () => {
  it('replay on the code that wrote them, and are intact', async () => {
    const report = await replayHistories(GOLDEN, goldenCancellationWorkflows);
    expect(report.ok, report.message).toBe(true);
    expect(report.results.map((result) => [result.file, result.report?.recorded, result.report?.ok])).toEqual(
      [
        ['flaky-charge-resumed.json', 'failed', true],
        ['hold-stock-cancelled.json', 'cancelled', true],
        ['launch-audit-detached-child.ndjson', 'unfinished', true],
        ['reply-or-remind-timer-cancelled.json', 'completed', true],
        ['slow-approval-timed-out.json', 'timed_out', true],
      ],
    );
    const types = new Set<string>();
    for (const result of report.results) {
      const events = parseHistory(await readFile(join(GOLDEN, result.file), 'utf8'), result.file);
      expect(verifyChain(events).ok).toBe(true);
      for (const event of events) types.add(event.type);
    }
    for (const type of ['run.cancelRequested', 'op.cancelled', 'run.timedOut', 'run.resumed'])
      expect(types).toContain(type);
  });

  it('catch a change to the cleanup of a cancelled run', async () => {
    // The cleanup sends a notice before it releases the hold: runs cancelled on the old code break.
    const changed = defineWorkflow('hold-stock', async (ctx, input: { order: string }) => {
      await ctx.step('hold', () => ({ order: input.order, held: true }));
      try {
        return await ctx.waitFor<string>('paid');
      } catch (error) {
        await ctx.nonCancellable(async () => {
          await ctx.step('notify', () => 'sorry to see you go');
          await ctx.step('release', () => ({ order: input.order, released: true }));
        });
        throw error;
      }
    });
    const others = goldenCancellationWorkflows.filter((definition) => definition.name !== 'hold-stock');
    const report = await replayHistories(GOLDEN, [changed, ...others]);
    expect(report.ok).toBe(false);
    const broken = report.results.filter((result) => !result.report?.ok);
    expect(broken.map((result) => result.file)).toEqual(['hold-stock-cancelled.json']);
    expect(broken[0]!.report?.divergence?.message).toContain(
      "the history holds step 'release', but the workflow code now asks for step 'notify'",
    );
  });
});
