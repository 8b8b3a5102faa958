import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';

const { start } = harnessesClosedAfterEach();

describe('retry delay floor', () => {
  it('a step asked to retry after 1 s is retried no sooner, for every attempt of many runs', async () => {
    const flow = defineWorkflow('flaky', async (ctx) =>
      ctx.step(
        'call',
        ({ attempt }) => {
          if (attempt < 4) throw new Error(`attempt ${attempt} fails`);
          return attempt;
        },
        { retry: { maxAttempts: 4, initialDelay: '1s', backoffCoefficient: 2, maxDelay: '1m' } },
      ),
    );
    // Delays up to 10 s are waited in memory; the journal records when each retry was due.
    const h = await start({ workflows: [flow], inlineRetryMs: 0 });
    const delays: number[] = [];
    for (let index = 0; index < 5; index++) {
      const run = await h.baton.start(flow, null);
      for (;;) {
        const record = await h.settle(run.runId, ['waiting', 'completed']);
        if (record.status === 'completed') break;
        await h.advanceUntil(run.runId, 60_000, ['waiting', 'completed']);
      }
      const failures = (await run.history()).filter(
        (event): event is JournalEvent<'step.attempt.failed'> => event.type === 'step.attempt.failed',
      );
      expect(failures).toHaveLength(3);
      failures.forEach((event, attempt) => {
        const delay = Date.parse(event.payload.retryAt) - Date.parse(event.at);
        delays.push(delay);
        expect(delay).toBeGreaterThanOrEqual(1000 * 2 ** attempt);
        expect(delay).toBeLessThanOrEqual(1200 * 2 ** attempt);
      });
    }
    expect(delays).toHaveLength(15);
  });
});
