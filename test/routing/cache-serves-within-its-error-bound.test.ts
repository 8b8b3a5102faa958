import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import { SemanticCache, cachedModelCall, type CacheRequest } from '../../src/routing/semantic-cache.ts';
import { WordVectorEmbedder } from '../../src/routing/word-vector-embedder.ts';
import { harness, harnessesClosedAfterEach } from '../support/harness.ts';

const ASKED = 'What is the refund policy for damaged items?';
const PARAPHRASE = 'What is the refund policy for items that arrived damaged?';
const scope = { model: 'test:mini', system: 'You answer questions about the shop.' };

const { open } = harnessesClosedAfterEach();

function request(tenant: string, text: string): CacheRequest {
  return { tenant, scope, request: { messages: [{ role: 'user', content: text }] } };
}

async function setup() {
  const embedder = new WordVectorEmbedder();
  const box: { cache?: SemanticCache } = {};
  const modelCalls: string[] = [];
  const ask = defineWorkflow('ask', async (ctx, input: { question: string }) => {
    const result = await cachedModelCall(ctx, box.cache!, {
      scope,
      request: { messages: [{ role: 'user', content: input.question }] },
      call: async () => {
        modelCalls.push(`${ctx.tenant}: ${input.question}`);
        return `answer for ${ctx.tenant}`;
      },
    });
    return result.response;
  });
  const h = await harness({ workflows: [ask] });
  open.push(h);
  const make = () =>
    new SemanticCache({ records: h.store.vectorRecords, embedder, maxErrorRate: 0.05, log: () => {} });
  const cache = (box.cache = make());
  const run = async (tenant: string, question: string) => {
    const handle = await h.baton.start(ask, { question }, { tenant });
    return { answer: await handle.result(), events: await handle.history() };
  };
  const now = () => h.clock.now();
  return { h, cache, make, run, modelCalls, now };
}

describe('a semantic cache with an error bound', () => {
  it('serves only exact matches until verdicts show a threshold keeps wrong hits under the bound', async () => {
    const { cache, run, modelCalls, now } = await setup();
    await run('acme', ASKED);
    const before = await cache.lookup(request('acme', PARAPHRASE), now());
    expect(before).toMatchObject({ hit: false });
    expect((before as { reason: string }).reason).toContain('too few verdicts');
    expect((await cache.lookup(request('acme', ASKED), now())).hit).toBe(true);
    expect(modelCalls).toEqual([`acme: ${ASKED}`]);
  });

  it('serves a paraphrase once verified hits support its similarity, and journals the bound it was served under', async () => {
    const { cache, make, run, modelCalls, now } = await setup();
    await run('acme', ASKED);
    // 400 verified hits between similarity 0.90 and 0.99, all right: a threshold of 0.90 keeps
    // wrong hits under 5% with 95% confidence.
    for (let index = 0; index < 400; index++)
      await cache.verify(request('acme', ASKED), { similarity: 0.9 + index / 4500, correct: true });
    const bound = await cache.errorBound!.bound(cache.keys(request('acme', ASKED)).scope);
    expect(bound).toMatchObject({
      maxErrorRate: 0.05,
      threshold: 0.9,
      samples: 400,
      errors: 0,
      from: 'scope',
    });

    const served = await run('acme', PARAPHRASE);
    expect(served.answer).toBe('answer for acme');
    expect(modelCalls).toEqual([`acme: ${ASKED}`]);
    const hit = served.events.find((event) => event.type === 'cache.hit')!.payload;
    expect(hit.match).toBe('similar');
    expect(hit.similarity).toBeGreaterThanOrEqual(0.9);
    expect(hit.threshold).toBe(0.9);
    expect(hit.bound).toMatchObject({ maxErrorRate: 0.05, threshold: 0.9, samples: 400, errors: 0 });

    // Verdicts are kept in the store: another cache on it (another process) learns the same bound.
    const other = make();
    expect((await other.lookup(request('acme', PARAPHRASE), now())).hit).toBe(true);
  });

  it('never serves an entry or a verdict across tenants', async () => {
    const { cache, run, modelCalls, now } = await setup();
    await run('acme', ASKED);
    for (let index = 0; index < 400; index++)
      await cache.verify(request('acme', ASKED), { similarity: 0.9 + index / 4500, correct: true });

    // globex asks the very same question: acme's entry is not served, acme's verdicts do not count.
    const globex = await run('globex', ASKED);
    expect(globex.answer).toBe('answer for globex');
    expect(globex.events.some((event) => event.type === 'cache.hit')).toBe(false);
    expect(modelCalls).toEqual([`acme: ${ASKED}`, `globex: ${ASKED}`]);
    const globexBound = await cache.errorBound!.bound(cache.keys(request('globex', ASKED)).scope);
    expect(globexBound).toMatchObject({ threshold: 1, samples: 0 });
    expect(await cache.lookup(request('globex', PARAPHRASE), now())).toMatchObject({ hit: false });
    expect(await cache.lookup(request('acme', PARAPHRASE), now())).toMatchObject({
      hit: true,
      response: 'answer for acme',
    });
  });
});

describe('a cache that learns its bound from its misses', () => {
  it('judges the fresh answer against the nearest entry, journals the verdict and records it', async () => {
    const NEAR_MISS = 'What is the refund policy for unwanted items?';
    const answers: Record<string, string> = {
      [ASKED]: 'Damaged items are refunded in full.',
      [PARAPHRASE]: 'Damaged items are refunded in full.',
      [NEAR_MISS]: 'Unwanted items can be returned within 14 days.',
    };
    const box: { cache?: SemanticCache } = {};
    const ask = defineWorkflow('ask-judged', async (ctx, input: { question: string }) => {
      const result = await cachedModelCall(ctx, box.cache!, {
        scope,
        request: { messages: [{ role: 'user', content: input.question }] },
        call: async () => answers[input.question]!,
        judge: (cached, fresh) => cached === fresh,
      });
      return result.response;
    });
    const h = await harness({ workflows: [ask] });
    open.push(h);
    const cache = (box.cache = new SemanticCache({
      records: h.store.vectorRecords,
      embedder: new WordVectorEmbedder(),
      maxErrorRate: 0.05,
      log: () => {},
    }));
    const verdictOf = async (question: string) => {
      const run = await h.baton.start(ask, { question }, { tenant: 'acme' });
      await run.result();
      const missed = (await run.history()).find((event) => event.type === 'cache.missed')!;
      return missed.payload.verdict;
    };

    expect(await verdictOf(ASKED)).toBeUndefined(); // nothing cached yet: nothing to judge
    const paraphrase = await verdictOf(PARAPHRASE);
    expect(paraphrase).toMatchObject({ correct: true });
    expect(paraphrase!.similarity).toBeGreaterThan(0.8);
    const nearMiss = await verdictOf(NEAR_MISS);
    expect(nearMiss).toMatchObject({ correct: false });

    // Both verdicts are kept in the store, in acme's tenant only.
    const kept = await h.store.vectorRecords!.scanVectorRecords({
      collection: 'cache-verdict',
      tenant: 'acme',
      partition: '',
    });
    expect(kept.map((record) => record.data)).toEqual([
      {
        partition: cache.keys(request('acme', ASKED)).scope.partition,
        similarity: paraphrase!.similarity,
        correct: true,
      },
      {
        partition: cache.keys(request('acme', ASKED)).scope.partition,
        similarity: nearMiss!.similarity,
        correct: false,
      },
    ]);
    const bound = await cache.errorBound!.bound(cache.keys(request('acme', ASKED)).scope);
    expect(bound).toMatchObject({ threshold: 1 }); // two verdicts are far from enough evidence
    const other = await cache.errorBound!.bound(cache.keys(request('globex', ASKED)).scope);
    expect(other).toMatchObject({ samples: 0 });
  });
});
