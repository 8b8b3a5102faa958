import { join } from 'node:path';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, microsSince, type Figure } from './harness.ts';

const STEPS = 500;
const CALLS = 2000;

const plain = defineWorkflow('bench.pools.plain', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++) sum += await ctx.step('add', () => index);
  return sum;
});

const pooled = defineWorkflow('bench.pools.pooled', async (ctx, input: { steps: number }) => {
  let sum = 0;
  for (let index = 0; index < input.steps; index++)
    sum += await ctx.step('add', () => index, { pool: 'bench' });
  return sum;
});

/**
 * Resource pools: what holding a pool slot costs a call. A pool slot is one transaction to take it
 * (slot, request and token windows, the queue) and one to give it back, both without fsync (pool
 * state is operational). Measured three ways, interleaved: the store's acquire + release alone, a
 * durable step, and the same step holding a slot of a pool that never makes it wait.
 */
export const poolsFigure: Figure = {
  id: 'pools',
  title: `Resource pools: acquire + release per call vs a durable step (${STEPS}-step workflows, WAL, synchronous=FULL)`,
  async run(bench) {
    const dir = bench.tempDir('pools');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const baton = await Baton.open({
      store,
      workflows: [plain, pooled],
      worker: { concurrency: 1 },
      pools: {
        bench: { concurrency: 1000, requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000 },
      },
    });
    const limits = { concurrency: 1000, requests: 1_000_000_000, tokens: 1_000_000_000, windowMs: 60_000 };
    let holder = 0;
    try {
      const samples = await interleave(
        {
          acquireRelease: async () => {
            const start = performance.now();
            for (let index = 0; index < CALLS; index++) {
              const now = Date.now();
              const grant = await store.pools.acquire({
                pool: 'raw',
                holder: `h${holder++}`,
                tenant: 'default',
                priority: 0,
                limits,
                tokens: 100,
                now,
                leaseMs: 30_000,
              });
              if (!grant.granted) throw new Error('the bench pool refused a call');
              await store.pools.release(grant.leaseId, { now: Date.now(), tokens: 90 });
            }
            return microsSince(start) / CALLS;
          },
          plainStep: async () => {
            const start = performance.now();
            await (await baton.start(plain, { steps: STEPS })).result();
            return microsSince(start) / STEPS;
          },
          pooledStep: async () => {
            const start = performance.now();
            await (await baton.start(pooled, { steps: STEPS })).result();
            return microsSince(start) / STEPS;
          },
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const pair = measurement('pool acquire + release (store, no fsync)', 'µs/call', samples.acquireRelease);
      const step = measurement('durable step (ctx.step)', 'µs/step', samples.plainStep);
      const pooledStep = measurement('durable step holding a pool slot', 'µs/step', samples.pooledStep);
      return {
        measurements: [pair, step, pooledStep],
        ratio: { label: 'pooled step / plain step', value: pooledStep.value / step.value },
        notes: [
          `acquire + release is ${((pair.value / step.value) * 100).toFixed(0)}% of a durable step's cost (the step's commit waits on fsync; the pool's transactions do not).`,
          'The pool never refuses here: this is the price of keeping limits across processes, not of waiting.',
        ],
      };
    } finally {
      await baton.close();
      await store.close();
    }
  },
};
