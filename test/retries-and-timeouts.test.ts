import { describe, expect, it } from 'vitest';
import { NonRetryableError, StepFailedError } from '../src/errors.ts';
import { backoffDelay, resolveRetryPolicy } from '../src/engine/retry.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { aborted, harness, type Harness, harnessesClosedAfterEach } from './support/harness.ts';

const HOUR = 60 * 60 * 1000;
const { start } = harnessesClosedAfterEach();

/** Drives a run whose retries park it: moves the clock past each wake-up until it finishes. */
async function driveToEnd(h: Harness, runId: string): Promise<void> {
  for (;;) {
    const run = await h.settle(runId, ['waiting', 'completed', 'failed', 'cancelled']);
    if (run.status !== 'waiting') return;
    await h.advanceUntil(runId, HOUR, ['waiting', 'completed', 'failed', 'cancelled']);
  }
}

function ofType<T extends JournalEvent['type']>(events: readonly JournalEvent[], type: T): JournalEvent<T>[] {
  return events.filter((event): event is JournalEvent<T> => event.type === type);
}

describe('retries', () => {
  it('journals every failed attempt with its backoff, then the success, under one idempotency key', async () => {
    const attempts: { attempt: number; key: string }[] = [];
    const flow = defineWorkflow('flaky', async (ctx) =>
      ctx.step(
        'call-api',
        ({ attempt, idempotencyKey }) => {
          attempts.push({ attempt, key: idempotencyKey });
          if (attempt < 3) throw new Error(`HTTP 503 on attempt ${attempt}`);
          return 'ok';
        },
        { retry: { maxAttempts: 5, initialDelay: '1m', backoffCoefficient: 3, maxDelay: '1h' } },
      ),
    );
    // Retries are never waited in memory here: each one parks the run until the clock moves.
    const h = await start({ workflows: [flow], inlineRetryMs: 0 });
    const run = await h.baton.start(flow, null);
    await driveToEnd(h, run.runId);
    expect(await run.result()).toBe('ok');

    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(new Set(attempts.map((a) => a.key))).toEqual(new Set([`${run.runId}:1`]));
    const events = await run.history();
    const failures = ofType(events, 'step.attempt.failed');
    expect(failures.map((event) => event.payload.attempt)).toEqual([1, 2]);
    expect(failures.map((event) => event.payload.error.message)).toEqual([
      'HTTP 503 on attempt 1',
      'HTTP 503 on attempt 2',
    ]);
    // The delay is a floor: at least initialDelay × coefficient^(attempt − 1), jitter on top.
    failures.forEach((event, index) => {
      const delay = Date.parse(event.payload.retryAt) - Date.parse(event.at);
      expect(delay).toBeGreaterThanOrEqual(60_000 * 3 ** index);
      expect(delay).toBeLessThanOrEqual(1.2 * 60_000 * 3 ** index);
    });
    const [completed] = ofType(events, 'step.completed');
    expect(completed?.payload).toMatchObject({ name: 'call-api', attempt: 3, result: 'ok' });
  });

  it('fails the step after the last attempt; the workflow may catch StepFailedError', async () => {
    let calls = 0;
    const flow = defineWorkflow('always-fails', async (ctx) => {
      try {
        await ctx.step(
          'doomed',
          () => {
            calls++;
            throw new TypeError('bad gateway');
          },
          { retry: { maxAttempts: 3, initialDelay: '1s' } },
        );
        return 'unreachable';
      } catch (error) {
        return { caught: error instanceof StepFailedError, message: (error as Error).message };
      }
    });
    const h = await start({ workflows: [flow], inlineRetryMs: 0 });
    const run = await h.baton.start(flow, null);
    await driveToEnd(h, run.runId);
    expect(await run.result()).toEqual({
      caught: true,
      message: `Step 'doomed' failed after 3 attempt(s): TypeError: bad gateway`,
    });
    expect(calls).toBe(3);
    const events = await run.history();
    expect(ofType(events, 'step.attempt.failed')).toHaveLength(2);
    const [failed] = ofType(events, 'step.failed');
    expect(failed?.payload).toMatchObject({
      name: 'doomed',
      attempt: 3,
      error: { name: 'TypeError', message: 'bad gateway' },
    });
  });

  it('an uncaught step failure fails the run with the step’s story', async () => {
    const flow = defineWorkflow('uncaught', async (ctx) =>
      ctx.step(
        'doomed',
        () => {
          throw new Error('no');
        },
        { retry: { maxAttempts: 1 } },
      ),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await expect(run.result()).rejects.toMatchObject({ code: 'STEP_FAILED', name: 'RunFailedError' });
    const record = await run.get();
    expect(record.error?.message).toBe(`Step 'doomed' failed after 1 attempt(s): Error: no`);
  });

  it('does not retry NonRetryableError, nor errors named non-retryable by the policy', async () => {
    const calls = { thrown: 0, named: 0, coded: 0 };
    const flow = defineWorkflow('non-retryable', async (ctx) => {
      const outcomes: string[] = [];
      const attempt = async (name: keyof typeof calls, error: () => Error): Promise<void> => {
        try {
          await ctx.step(
            name,
            () => {
              calls[name]++;
              throw error();
            },
            { retry: { maxAttempts: 5, initialDelay: '1h', nonRetryable: ['ValidationError', 'E_QUOTA'] } },
          );
        } catch (caught) {
          outcomes.push((caught as Error).message);
        }
      };
      await attempt('thrown', () => new NonRetryableError('card declined'));
      await attempt('named', () => Object.assign(new Error('missing field'), { name: 'ValidationError' }));
      await attempt('coded', () => Object.assign(new Error('over quota'), { code: 'E_QUOTA' }));
      return outcomes;
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toEqual([
      `Step 'thrown' failed after 1 attempt(s): NonRetryableError: card declined`,
      `Step 'named' failed after 1 attempt(s): ValidationError: missing field`,
      `Step 'coded' failed after 1 attempt(s): Error: over quota`,
    ]);
    expect(calls).toEqual({ thrown: 1, named: 1, coded: 1 });
    const events = await run.history();
    expect(ofType(events, 'step.attempt.failed')).toEqual([]);
    expect(ofType(events, 'step.failed').map((event) => event.payload.attempt)).toEqual([1, 1, 1]);
  });

  it('a retry parked past a restart resumes on the next worker, counting attempts on', async () => {
    const attempts: number[] = [];
    const flow = defineWorkflow('retry-restart', async (ctx) =>
      ctx.step(
        'call',
        ({ attempt }) => {
          attempts.push(attempt);
          if (attempt === 1) throw new Error('first fails');
          return attempt;
        },
        { retry: { maxAttempts: 2, initialDelay: '10m' } },
      ),
    );
    const first = await harness({ workflows: [flow], inlineRetryMs: 0 });
    const run = await first.baton.start(flow, null);
    await first.settle(run.runId, ['waiting', 'completed']);
    const parked = await first.store.getRun(run.runId);
    // The retry is at least 10 minutes away, so the run parks.
    expect(parked?.status).toBe('waiting');
    if (parked?.status === 'waiting') {
      expect(parked.wakeAt).toBeGreaterThanOrEqual(first.clock.now() + 10 * 60_000);
      expect(parked.wakeAt).toBeLessThanOrEqual(first.clock.now() + 12 * 60_000);
      await first.baton.close();
      const second = await start({
        store: first.store,
        clock: first.clock,
        workflows: [flow],
        inlineRetryMs: 0,
      });
      second.advance(12 * 60_000);
      expect(await second.baton.result(run.runId)).toBe(2);
    } else {
      expect(await first.baton.result(run.runId)).toBe(2);
      await first.baton.close();
    }
    expect(attempts).toEqual([1, 2]);
    await first.store.close();
  });

  it('backoff grows exponentially up to maxDelay, with jitter on top and Retry-After as a floor', () => {
    const policy = resolveRetryPolicy({ initialDelay: '1s', backoffCoefficient: 2, maxDelay: '5s' });
    const top = (): number => 0.999999999;
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(policy, attempt, undefined, top))).toEqual([
      1200, 2400, 4800, 5000, 5000,
    ]);
    expect(backoffDelay(policy, 3, undefined, () => 0)).toBe(4000);
    expect(backoffDelay(policy, 3, undefined, () => 0.5)).toBe(4400);
    expect(backoffDelay(policy, 1, 30_000, () => 0.5)).toBe(30_000);
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe('timeouts', () => {
  it('a step timeout aborts the attempt’s signal and fails it with StepTimeoutError, retried as configured', async () => {
    const reasons: string[] = [];
    const flow = defineWorkflow('slow-step', async (ctx) =>
      ctx.step(
        'hang',
        async ({ signal }) => {
          reasons.push(((await aborted(signal)) as Error).name);
          return 'never';
        },
        { timeout: 20, retry: { maxAttempts: 2, initialDelay: 0 } },
      ),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await expect(run.result()).rejects.toMatchObject({ code: 'STEP_FAILED' });
    const events = await run.history();
    expect(ofType(events, 'step.attempt.failed').map((event) => event.payload.error.code)).toEqual([
      'STEP_TIMEOUT',
    ]);
    const [failed] = ofType(events, 'step.failed');
    expect(failed?.payload.error).toMatchObject({ name: 'StepTimeoutError', code: 'STEP_TIMEOUT' });
    expect(failed?.payload.error.message).toBe(`Step 'hang' did not finish within 20 ms.`);
    expect(reasons).toEqual(['StepTimeoutError', 'StepTimeoutError']);
  });

  it('a run timeout fails a parked run when its deadline comes', async () => {
    const flow = defineWorkflow(
      'long-sleep',
      async (ctx) => {
        await ctx.sleep('1h');
        return 'woke';
      },
      { timeout: '10m' },
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    h.advance(10 * 60_000);
    // A status of its own (test/run-timeout-status.test.ts), not a generic failure.
    const failed = await h.settle(run.runId, 'timed_out');
    expect(failed.error).toMatchObject({ name: 'RunTimeoutError', code: 'RUN_TIMEOUT' });
    expect(failed.error?.message).toBe(`Run ${run.runId} exceeded its timeout of 600000 ms.`);
    const events = await run.history();
    expect(events.at(-1)?.type).toBe('run.timedOut');
  });

  it('a run timeout stops an in-flight step through its abort signal', async () => {
    let stepSaw: unknown;
    const flow = defineWorkflow('hung-run', async (ctx) =>
      ctx.step('hang', async ({ signal }) => {
        stepSaw = await aborted(signal);
        throw signal.reason;
      }),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null, { timeout: 30 });
    const failed = await h.settle(run.runId, 'timed_out');
    expect(failed.error?.code).toBe('RUN_TIMEOUT');
    expect((stepSaw as Error).name).toBe('RunTimeoutError');
  });

  it('a long run timeout (beyond a 32-bit timer) does not fire early', async () => {
    const flow = defineWorkflow(
      'patient',
      async (ctx) => {
        // Give an early timer time to fire: without the fix it fired after 1 ms and failed the run.
        await ctx.step('slow', () => new Promise((resolve) => setTimeout(resolve, 50)));
        return ctx.step('step-timeout', () => 'done', { timeout: '30d' });
      },
      { timeout: '30d' },
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toBe('done');
  });

  it('a sleep longer than a 32-bit timer parks and wakes when its time comes', async () => {
    const flow = defineWorkflow('long-nap', async (ctx) => {
      await ctx.sleep('30d');
      return 'rested';
    });
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    await h.settle(run.runId, 'waiting');
    h.advance(30 * 24 * HOUR);
    expect(await run.result()).toBe('rested');
  });
});
