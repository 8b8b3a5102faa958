import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { gate, tempStore, until } from './support/harness.ts';
import { callProvider, ProviderServer } from './support/provider-server.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

/** A pool per stage: a backlog in one stage waits in that stage's queue only. */
const STAGE_POOLS = {
  retrieval: { concurrency: 2 },
  reasoning: { concurrency: 2 },
  writing: { concurrency: 2 },
};

const research = defineWorkflow('stage.research', async (ctx, input: { url: string; index: number }) =>
  ctx.step('retrieve', () => callProvider(`${input.url}/retrieval`, { index: input.index }), {
    pool: 'retrieval',
  }),
);

const compose = defineWorkflow('stage.compose', async (ctx, input: { url: string; index: number }) => {
  await ctx.step('reason', () => callProvider(`${input.url}/reasoning`, { index: input.index }), {
    pool: 'reasoning',
  });
  return ctx.step('write', () => callProvider(`${input.url}/writing`, { index: input.index }), {
    pool: 'writing',
  });
});

const cleanup = cleanupsAfterEach();

describe('stage isolation', () => {
  it('a backlog in the retrieval stage does not hold back reasoning and writing, nor their worker slots', async () => {
    const retrievalHeld = gate();
    const server = await ProviderServer.start({
      reply: async ({ path }) => {
        if (path === '/retrieval') await retrievalHeld.promise;
        return { status: 200, body: { path } };
      },
    });
    cleanup.push(() => server.close());
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    // Six worker slots: the two retrieval calls in flight hold two; waiting for a slot must not hold the rest.
    const baton = await Baton.open({
      store,
      workflows: [research, compose],
      pools: STAGE_POOLS,
      worker: { concurrency: 6, pollMs: 20 },
      inlineRetryMs: 100,
    });
    cleanup.push(() => baton.close());

    const backlog: string[] = [];
    for (let index = 0; index < 20; index++)
      backlog.push((await baton.start(research, { url: server.url, index })).runId);
    const retrievalStats = async () =>
      (await baton.pools.stats()).find((stats) => stats.pool === 'retrieval')!;
    await until(
      async () => server.inFlightByPath.get('/retrieval') === 2 && (await retrievalStats()).queued === 18,
      'two retrieval calls in flight and eighteen queued',
    );

    const composed: string[] = [];
    for (let index = 0; index < 5; index++)
      composed.push((await baton.start(compose, { url: server.url, index })).runId);
    await until(
      async () =>
        (await store.listRuns({ workflow: 'stage.compose', status: ['completed'], limit: 10 })).length === 5,
      'every compose run to finish while retrieval is held',
    );

    // Retrieval never moved: still two in flight, eighteen queued, none finished, none lost.
    expect(server.inFlightByPath.get('/retrieval')).toBe(2);
    expect(await retrievalStats()).toMatchObject({ inFlight: 2, queued: 18 });
    expect(
      await store.listRuns({ workflow: 'stage.research', status: ['completed', 'failed'], limit: 100 }),
    ).toEqual([]);
    for (const runId of composed) expect(await baton.result(runId)).toEqual({ path: '/writing' });

    retrievalHeld.open();
    for (const runId of backlog)
      expect(await baton.result(runId, { timeout: '60s' })).toEqual({ path: '/retrieval' });
    expect(server.maxInFlightByPath.get('/retrieval')).toBe(2);
    expect(server.maxInFlightByPath.get('/reasoning')).toBeLessThanOrEqual(2);
    expect(server.maxInFlightByPath.get('/writing')).toBeLessThanOrEqual(2);
  }, 90_000);

  it("a workflow's own pool caps its runs in flight; the runs it holds back park and all finish", async () => {
    const server = await ProviderServer.start({
      reply: async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return { status: 200 };
      },
    });
    cleanup.push(() => server.close());
    const { store, dispose } = await tempStore();
    cleanup.push(dispose);
    const capped = defineWorkflow(
      'stage.capped',
      async (ctx, input: { url: string }) => {
        await ctx.step('first', () => callProvider(`${input.url}/a`));
        return ctx.step('second', () => callProvider(`${input.url}/b`));
      },
      { pool: 'one-at-a-time' },
    );
    const baton = await Baton.open({
      store,
      workflows: [capped],
      pools: { 'one-at-a-time': { concurrency: 1 } },
      worker: { concurrency: 8, pollMs: 20 },
    });
    cleanup.push(() => baton.close());
    const runs = await Promise.all(Array.from({ length: 6 }, () => baton.start(capped, { url: server.url })));
    for (const run of runs) await run.result({ timeout: '60s' });
    // One run at a time held the pool: its two calls never overlapped another run's.
    expect(server.maxInFlight).toBe(1);
    expect(server.received).toBe(12);
  }, 90_000);
});
