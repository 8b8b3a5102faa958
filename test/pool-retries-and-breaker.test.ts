import { describe, expect, it } from 'vitest';
import { Baton, type BatonOptions } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import type { PoolEvent } from '../src/resources/pool-metrics.ts';
import { withPool } from '../src/resources/with-pool.ts';
import { gate, tempStore, until } from './support/harness.ts';
import {
  callProvider,
  ProviderServer,
  type ProviderReply,
  type ProviderServerOptions,
} from './support/provider-server.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const cleanup = cleanupsAfterEach();

const call = defineWorkflow('retries.call', async (ctx, input: { url: string; attempts?: number }) =>
  ctx.step('call', () => callProvider(`${input.url}/call`), {
    pool: 'api',
    retry: { maxAttempts: input.attempts ?? 10, initialDelay: '10ms', maxDelay: '50ms' },
  }),
);

/**
 * A provider answering each request with the next scripted reply (the last one from then on), or
 * as `replies` says when it is a function, and a Baton using it.
 */
async function setUp(
  replies: ProviderReply[] | NonNullable<ProviderServerOptions['reply']>,
  options: Partial<BatonOptions> = {},
) {
  const server = await ProviderServer.start({
    reply:
      typeof replies === 'function' ? replies : ({ index }) => replies[Math.min(index, replies.length - 1)]!,
  });
  cleanup.push(() => server.close());
  const { store, dispose } = await tempStore();
  cleanup.push(dispose);
  const baton = await Baton.open({
    store,
    workflows: [call],
    pools: { api: { concurrency: 1 } },
    worker: { pollMs: 20 },
    ...options,
  });
  cleanup.push(() => baton.close());
  return { server, baton, store };
}

function ofType(history: readonly JournalEvent[], type: string): JournalEvent[] {
  return history.filter((event) => event.type === type);
}

describe('retries in a pool', () => {
  it('a 429 pauses the whole pool for its Retry-After, and the call is retried after it', async () => {
    const { server, baton } = await setUp([
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, body: { answer: 42 } },
    ]);
    const [first, second] = await Promise.all([
      baton.start(call, { url: server.url }),
      baton.start(call, { url: server.url }),
    ]);
    expect(await first.result({ timeout: '30s' })).toEqual({ answer: 42 });
    expect(await second.result({ timeout: '30s' })).toEqual({ answer: 42 });

    // The provider saw nothing from the pool until its Retry-After had passed.
    const [limited, ...rest] = server.arrivals;
    expect(limited!.status).toBe(429);
    for (const arrival of rest) expect(arrival.at - limited!.at).toBeGreaterThanOrEqual(1000);

    const histories = [await first.history(), await second.history()];
    const failed = histories.flatMap((history) => ofType(history, 'step.attempt.failed'));
    expect(failed).toHaveLength(1);
    const payload = failed[0]!.payload as { error: { code: string; message: string }; retryAt: string };
    expect(payload.error.code).toBe('RATE_LIMITED');
    expect(payload.error.message).toMatch(
      /pool 'api' was rate limited \(HTTP 429\); the provider asked to retry after 1000 ms/,
    );
    // The retry is due a full Retry-After after the 429 left the server (the event itself is stamped
    // a moment after retryAt is computed, so it is not the reference).
    expect(Date.parse(payload.retryAt) - limited!.at).toBeGreaterThanOrEqual(1000);
  });

  it('a 503 is retried as ServiceUnavailableError; a 400 fails at once without a retry', async () => {
    const unavailable = await setUp([{ status: 503 }, { status: 200, body: 'ok' }]);
    const retried = await unavailable.baton.start(call, { url: unavailable.server.url });
    expect(await retried.result({ timeout: '30s' })).toBe('ok');
    const [failure] = ofType(await retried.history(), 'step.attempt.failed');
    expect((failure!.payload as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');

    const rejected = await setUp([{ status: 400 }, { status: 200 }]);
    const run = await rejected.baton.start(call, { url: rejected.server.url });
    await expect(run.result({ timeout: '30s' })).rejects.toMatchObject({ code: 'STEP_FAILED' });
    const history = await run.history();
    expect(ofType(history, 'step.attempt.failed')).toEqual([]);
    const [stepFailed] = ofType(history, 'step.failed');
    expect(stepFailed!.payload).toMatchObject({ attempt: 1, error: { code: 'NON_RETRYABLE' } });
    expect((stepFailed!.payload as { error: { message: string } }).error.message).toMatch(
      /rejected \(HTTP 400\)/,
    );
    expect(rejected.server.received).toBe(1);
  });
});

describe("a pool's circuit breaker", () => {
  it('opens on a failure ratio (journaled), holds calls back while open, probes when half-open, and closes on success', async () => {
    const events: PoolEvent[] = [];
    const { server, baton } = await setUp(
      [
        { status: 503 },
        { status: 503 },
        { status: 503 },
        { status: 503 },
        { status: 503 },
        { status: 200, body: 'back' },
      ],
      {
        pools: {
          api: {
            concurrency: 1,
            circuitBreaker: { failureRatio: 0.5, sampleSize: 4, minimumCalls: 4, halfOpenAfter: '300ms' },
          },
        },
      },
    );
    baton.pools.subscribe((event) => events.push(event));
    const run = await baton.start(call, { url: server.url });
    expect(await run.result({ timeout: '30s' })).toBe('back');

    // Four failures open it; each later request is a single probe, at least 300 ms after the last failure.
    expect(server.received).toBe(6);
    const at = server.arrivals.map((arrival) => arrival.at);
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(300);
    expect(at[5]! - at[4]!).toBeGreaterThanOrEqual(300);
    const breakerStates = events.flatMap((event) => (event.type === 'pool.breaker' ? [event.state] : []));
    expect(breakerStates).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);

    const history = await run.history();
    const opened = ofType(history, 'pool.breaker.opened');
    expect(opened).toHaveLength(2);
    expect(opened[0]!.payload).toMatchObject({ pool: 'api', what: "step 'call'", halfOpenAfterMs: 300 });
    // Waiting on an open breaker is not a failed attempt: the five failures are the five attempts.
    expect(ofType(history, 'step.attempt.failed')).toHaveLength(5);
  });
});

describe('limits changed while runs are in flight', () => {
  it('a raised concurrency applies at once, and no queued call is lost', async () => {
    const held = gate();
    const { server, baton } = await setUp(async () => {
      await held.promise;
      return { status: 200, body: 'done' };
    });
    const runs = await Promise.all(Array.from({ length: 4 }, () => baton.start(call, { url: server.url })));
    await until(
      async () => server.inFlight === 1 && (await baton.pools.stats())[0]!.queued === 3,
      'one call in flight, three queued',
    );

    baton.pools.configure({ api: { concurrency: 3 } });
    await until(() => server.inFlight === 3, 'three calls in flight under the new limit');
    held.open();
    for (const run of runs) expect(await run.result({ timeout: '30s' })).toBe('done');
    expect(server.maxInFlight).toBe(3);
    expect(server.received).toBe(4);
    expect(() => baton.pools.configure({ api: { concurrency: 0 } })).toThrow(/pools\.api\.concurrency/);
    expect((await baton.pools.stats())[0]!.limits.concurrency).toBe(3);
  });
});

describe('withPool, for model and tool calls', () => {
  it('reserves the estimated tokens and keeps the usage the call reports', async () => {
    const model = defineWorkflow('with-pool.model', async (ctx) =>
      ctx.operations.run('step:complete', async (op) => {
        const recorded = op.recorded.find((event) => event.type === 'step.completed');
        if (recorded) return (recorded.payload as { result: string }).result;
        const result = await withPool(op, 'llm', { tokens: 500 }, async (lease) => {
          lease.reportTokens(120);
          return `answered after ${lease.waitedMs >= 0 ? 'waiting' : '?'}`;
        });
        await op.append([
          { type: 'step.completed', payload: { op: op.op, name: 'complete', attempt: 1, result } },
        ]);
        return result;
      }),
    );
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const baton = await Baton.open({
      store,
      workflows: [model],
      pools: { llm: { concurrency: 2, tokensPerMinute: 10_000 } },
      worker: { pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    expect(await (await baton.start(model, {})).result({ timeout: '30s' })).toBe('answered after waiting');
    expect((await baton.pools.stats())[0]).toMatchObject({
      pool: 'llm',
      tokensInWindow: 120,
      inFlight: 0,
      granted: 1,
    });
  });
});
