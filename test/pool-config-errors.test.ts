import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { BatonError } from '../src/errors.ts';
import { withPool } from '../src/resources/with-pool.ts';
import type { Store } from '../src/store/store.ts';
import { tempStore } from './support/harness.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const cleanup = cleanupsAfterEach();

async function refusal(options: Parameters<typeof Baton.open>[0]): Promise<BatonError> {
  const directory = await mkdtemp(join(tmpdir(), 'baton-pools-'));
  cleanup.push(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'baton.db');
  const error = await Baton.open({ store: `sqlite:${path}`, worker: false, ...options }).then(
    async (baton) => {
      await baton.close();
      throw new Error('Baton.open accepted a bad configuration');
    },
    (reason: unknown) => reason,
  );
  expect(BatonError.isInstance(error)).toBe(true);
  return error as BatonError;
}

describe('bad pool configuration is refused at the door', () => {
  it.each([
    [{ openai: { concurrency: 0 } }, /pools\.openai\.concurrency must be a whole number of 1 or more, got 0/],
    [
      { openai: { concurrency: 2.5 } },
      /pools\.openai\.concurrency must be a whole number of 1 or more, got 2\.5/,
    ],
    [
      { openai: { requestsPerMinute: -5 } },
      /pools\.openai\.requestsPerMinute must be a number above 0, got -5/,
    ],
    [{ openai: { tokensPerMinute: Number.NaN } }, /pools\.openai\.tokensPerMinute must be a number above 0/],
    [
      { openai: { concurency: 8 } },
      /Unknown setting 'concurency' in pools\.openai \(did you mean 'concurrency'\?\)/,
    ],
    [{ openai: {} }, /pools\.openai sets no limit/],
    [{ openai: { concurrency: 1, rateWindow: 'soon' } }, /pools\.openai\.rateWindow/],
    [
      { openai: { concurrency: 1, circuitBreaker: { failureRatio: 2 } } },
      /failureRatio must be a number above 0 and at most 1/,
    ],
    [
      { openai: { concurrency: 1, circuitBreaker: { sampleSize: 5, minimumCalls: 8 } } },
      /minimumCalls \(8\) cannot exceed sampleSize \(5\)/,
    ],
    [{ 'open ai': { concurrency: 1 } }, /Pool name 'open ai'/],
  ])('pools %j → ConfigError, before the store is opened', async (pools, message) => {
    const error = await refusal({ pools: pools as never });
    expect(error.code).toBe('CONFIG');
    expect(error.message).toMatch(message);
  });

  it('refuses a bound of zero or below on queued runs', async () => {
    expect((await refusal({ maxQueuedRuns: 0 })).message).toMatch(
      /maxQueuedRuns must be a whole number of 1 or more, got 0/,
    );
    expect((await refusal({ maxQueuedRunsPerTenant: -1 })).message).toMatch(/maxQueuedRunsPerTenant/);
  });

  it('writes no store file when the configuration is refused', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-pools-'));
    cleanup.push(() => rm(directory, { recursive: true, force: true }));
    const path = join(directory, 'baton.db');
    await expect(
      Baton.open({ store: `sqlite:${path}`, pools: { openai: { concurrency: -1 } } }),
    ).rejects.toMatchObject({ code: 'CONFIG' });
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a workflow that names a pool not configured, listing those that are', async () => {
    const flow = defineWorkflow('needs-gpu', async () => 1, { pool: 'gpu' });
    const error = await refusal({
      workflows: [flow],
      pools: { GPU: { concurrency: 1 }, search: { concurrency: 2 } },
    });
    expect(error.code).toBe('UNKNOWN_POOL');
    expect(error.message).toMatch(
      /Workflow 'needs-gpu' names the resource pool 'gpu', which is not configured \(did you mean 'GPU'\?\)/,
    );
    expect(error.message).toMatch(/Configured pools: GPU, search/);
  });

  it('refuses pools and admission bounds on a store that cannot keep them', async () => {
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const withoutPools = new Proxy(store, {
      get: (target, property) => {
        if (property === 'pools') return undefined;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    await expect(
      Baton.open({ store: withoutPools, pools: { a: { concurrency: 1 } }, worker: false }),
    ).rejects.toThrow(/Resource pools need a store that keeps them/);
    await expect(Baton.open({ store: withoutPools, maxQueuedRuns: 5, worker: false })).rejects.toThrow(
      /maxQueuedRuns needs a store/,
    );
  });
});

describe('a call naming a pool that does not exist fails before it runs', () => {
  it('ctx.step: the run fails with UNKNOWN_POOL and the step never ran nor was journaled', async () => {
    let ran = 0;
    const flow = defineWorkflow('unknown-pool.step', async (ctx) =>
      ctx.step('fetch', () => ++ran, { pool: 'nope' }),
    );
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const baton = await Baton.open({
      store,
      workflows: [flow],
      pools: { search: { concurrency: 1 } },
      worker: { pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    const run = await baton.start(flow, {});
    await expect(run.result({ timeout: '30s' })).rejects.toMatchObject({ code: 'UNKNOWN_POOL' });
    expect(ran).toBe(0);
    const history = await run.history();
    expect(history.map((event) => event.type)).toEqual(['run.started', 'run.failed']);
    expect((history[1]!.payload as { error: { message: string } }).error.message).toMatch(
      /Step 'fetch' names the resource pool 'nope', which is not configured\. Configured pools: search/,
    );
  });

  it('withPool (model and tool calls): rejects with UNKNOWN_POOL before the call', async () => {
    let called = 0;
    const flow = defineWorkflow('unknown-pool.call', async (ctx) =>
      ctx.operations
        .run('step:model', (op) => withPool(op, 'llm', { tokens: 10 }, async () => ++called))
        .catch((error: unknown) => (error as BatonError).code),
    );
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const baton = await Baton.open({ store, workflows: [flow], worker: { pollMs: 20 } });
    cleanup.push(() => baton.close());
    expect(await (await baton.start(flow, {})).result({ timeout: '30s' })).toBe('UNKNOWN_POOL');
    expect(called).toBe(0);
  });
});
