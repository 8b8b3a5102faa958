import { afterEach, describe, expect, it } from 'vitest';
import type { WorkflowContext } from '../../src/engine/context.ts';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import { BatonError } from '../../src/errors.ts';
import { CapabilityRegistry, type Capability } from '../../src/routing/capability-registry.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { routeByCapability } from '../../src/routing/route-by-capability.ts';
import { routingLayer, type RoutingContext } from '../../src/routing/routing-context.ts';
import { harness, tempStore, type Harness } from '../support/harness.ts';

const billingPro: Capability = {
  name: 'billing-pro',
  description: 'Refunds duplicate charges, disputes, invoices and chargebacks for card payments',
  examples: ['refund a duplicate card charge', 'dispute a chargeback on an invoice'],
  cost: 10,
};
const billingLite: Capability = {
  name: 'billing-lite',
  description: 'Refunds charges on invoices',
  cost: 1,
};
const shipping: Capability = {
  name: 'shipping',
  description: 'Tracks parcels, delivery delays and lost packages',
  examples: ['where is my parcel', 'the courier lost my package'],
  cost: 2,
};
const team = [billingPro, billingLite, shipping];
const TASK = 'Please refund the duplicate card charge on my invoice';

function embedder(dimensions = 512): LexicalEmbedder {
  return new LexicalEmbedder({ dimensions }).fit(team.flatMap((c) => [c.description, ...(c.examples ?? [])]));
}

const open: Harness[] = [];
const disposers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const dispose of disposers.splice(0)) await dispose();
});

describe('capability routing', () => {
  it('picks the more similar of two capable agents without costBias, and the cheaper one with it', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: embedder(),
      capabilities: team,
      log: () => {},
    });
    const plain = await registry.rank(TASK, { k: 3, minScore: 0.1 });
    const byName = new Map(plain.candidates.map((c) => [c.name, c]));
    expect(byName.get('billing-pro')!.eligible).toBe(true);
    expect(byName.get('billing-lite')!.eligible).toBe(true);
    expect(byName.get('billing-pro')!.similarity).toBeGreaterThan(byName.get('billing-lite')!.similarity);
    expect(plain.chosen?.name).toBe('billing-pro');

    const thrifty = await registry.rank(TASK, { k: 3, minScore: 0.1, costBias: 1 });
    expect(thrifty.chosen?.name).toBe('billing-lite');
    expect(thrifty.chosen?.cost).toBe(1);
    expect(thrifty.reason).toContain('cheapest');

    // The cheapest of all (shipping, cost 2, is cheaper than billing-pro) does not win when it is not capable.
    const strict = await registry.rank(TASK, {
      k: 3,
      minScore: 0.1,
      costBias: 1,
      candidates: ['billing-pro', 'shipping'],
    });
    expect(strict.candidates.find((c) => c.name === 'shipping')!.eligible).toBe(false);
    expect(strict.chosen?.name).toBe('billing-pro');
  });

  it('journals route.decided with every candidate, and replays the decision after the registry changed', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: embedder(),
      capabilities: team,
      log: () => {},
    });
    const flow = defineWorkflow<{ task: string }, unknown, WorkflowContext & RoutingContext>(
      'route-then-wait',
      async (ctx, input) => {
        const decision = await ctx.route(input.task, { k: 3, minScore: 0.1, costBias: 1 });
        await ctx.waitFor('go');
        return decision;
      },
    );
    const h = await harness({ workflows: [flow], layers: [routingLayer({ registry })] });
    open.push(h);
    const run = await h.baton.start(flow, { task: TASK });
    await h.settle(run.runId, 'waiting');
    const [decided] = (await run.history()).filter((e) => e.type === 'route.decided');
    const payload = decided!.payload;
    expect(payload.chosen).toBe('billing-lite');
    expect(payload.candidates.map((c) => c.name).sort()).toEqual(['billing-lite', 'billing-pro', 'shipping']);
    expect(
      payload.candidates.every((c) => typeof c.similarity === 'number' && typeof c.cost === 'number'),
    ).toBe(true);
    expect(payload.options).toEqual({ k: 3, minScore: 0.1, costBias: 1 });
    expect(payload.space).toBe('baton-lexical-v1/512');

    registry.unregister('billing-lite');
    await h.baton.signal(run.runId, 'go');
    const result = (await run.result()) as { chosen: string; replayed: boolean };
    expect(result.chosen).toBe('billing-lite');
    expect(result.replayed).toBe(true);
    expect((await run.history()).filter((e) => e.type === 'route.decided')).toHaveLength(1);
  });

  it('journals route.failed when no candidate reaches minScore', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: embedder(),
      capabilities: team,
      log: () => {},
    });
    const flow = defineWorkflow('route-nothing', (ctx) =>
      routeByCapability(ctx, registry, 'compose a sonnet about autumn leaves', { minScore: 0.9 }),
    );
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const run = await h.baton.start(flow, null);
    const decision = (await run.result()) as { chosen?: string; reason: string };
    expect(decision.chosen).toBeUndefined();
    expect(decision.reason).toContain('No candidate reached minScore 0.9');
    expect((await run.history()).map((e) => e.type)).toContain('route.failed');
  });

  it('refuses thresholds out of range before journaling anything', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: embedder(),
      capabilities: team,
      log: () => {},
    });
    await expect(registry.rank(TASK, { minScore: 1.5 })).rejects.toThrow(
      /minScore is a cosine similarity and must be a number in \[-1, 1\], got 1.5/,
    );
    await expect(registry.rank(TASK, { costBias: -0.1 })).rejects.toThrow(
      /costBias must be a number at least 0 and at most 1, got -0.1/,
    );
    await expect(registry.rank(TASK, { k: 0 })).rejects.toThrow(/k must be a positive whole number, got 0/);
    await expect(registry.rank(TASK, { candidates: ['nobody'] })).rejects.toThrow(
      /no capability of that name/,
    );

    const flow = defineWorkflow('route-bad', (ctx) =>
      routeByCapability(ctx, registry, TASK, { minScore: Number.NaN }),
    );
    const h = await harness({ workflows: [flow] });
    open.push(h);
    const run = await h.baton.start(flow, null);
    await expect(run.result()).rejects.toThrow(/minScore/);
    expect((await run.history()).map((e) => e.type)).toEqual(['run.started', 'run.failed']);
  });

  it('an empty registry gives a clear error', async () => {
    const registry = await CapabilityRegistry.open({ embedder: embedder(), log: () => {} });
    const error = await registry.rank(TASK).catch((e: unknown) => e);
    expect(BatonError.isInstance(error) && error.code).toBe('ROUTING_EMPTY_REGISTRY');
    expect((error as Error).message).toMatch(/no capabilities are registered/);
  });

  it('keeps vectors in the store, reuses them at restart, and rebuilds when the dimensions change', async () => {
    const { store, dispose } = await tempStore();
    disposers.push(dispose);
    const counting = (dimensions: number) => {
      const inner = embedder(dimensions);
      const calls: number[] = [];
      return {
        calls,
        embedder: {
          specificationVersion: 'v1' as const,
          id: inner.id,
          dimensions,
          embed: (texts: readonly string[]) => (calls.push(texts.length), inner.embed(texts)),
        },
      };
    };
    const first = counting(512);
    await CapabilityRegistry.open({
      embedder: first.embedder,
      records: store.vectorRecords,
      capabilities: team,
      log: () => {},
    });
    expect(first.calls).toEqual([7]);

    const again = counting(512);
    const reopened = await CapabilityRegistry.open({
      embedder: again.embedder,
      records: store.vectorRecords,
      capabilities: team,
      log: () => {},
    });
    expect(again.calls).toEqual([]);
    expect(reopened.notices).toEqual([]);
    expect((await reopened.rank(TASK, { minScore: 0.1 })).chosen?.name).toBe('billing-pro');

    const logged: string[] = [];
    const smaller = counting(256);
    const rebuilt = await CapabilityRegistry.open({
      embedder: smaller.embedder,
      records: store.vectorRecords,
      capabilities: team,
      log: (m) => logged.push(m),
    });
    expect(smaller.calls).toEqual([7]);
    expect(rebuilt.notices).toHaveLength(1);
    expect(rebuilt.notices[0]).toMatch(
      /7 stored vector\(s\) were made in baton-lexical-v1\/512, but the embedder now makes baton-lexical-v1\/256; dropping them and re-embedding/,
    );
    expect(logged).toEqual(rebuilt.notices);
    const ranking = await rebuilt.rank(TASK, { minScore: 0.1 });
    expect(ranking.space).toBe('baton-lexical-v1/256');
    expect(ranking.chosen?.name).toBe('billing-pro');
  });

  it('register keeps the index up to date: a new capability is routable, a changed one is re-embedded', async () => {
    const registry = await CapabilityRegistry.open({
      embedder: embedder(),
      capabilities: [shipping],
      log: () => {},
    });
    expect((await registry.rank(TASK, { minScore: 0.1 })).chosen).toBeUndefined();
    await registry.register(billingLite);
    expect((await registry.rank(TASK, { minScore: 0.1 })).chosen?.name).toBe('billing-lite');
    await registry.register({ ...billingLite, description: 'Translates poems into French' });
    expect((await registry.rank(TASK, { minScore: 0.1 })).chosen).toBeUndefined();
    expect(registry.size).toBe(2);
  });
});
