import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { SemanticCache, cachedModelCall, type CacheScope } from '../../src/routing/semantic-cache.ts';
import { harness, tempStore, type Harness } from '../support/harness.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';

const scope: CacheScope = {
  model: 'test:mini',
  system: 'You answer billing questions.',
  tools: ['lookup-invoice'],
};
const HOUR = 3_600_000;

interface AskInput {
  question: string;
  system?: string;
  sideEffects?: boolean;
}

async function setup() {
  const temp = await tempStore();
  const cache = new SemanticCache({
    records: temp.store.vectorRecords,
    embedder: new LexicalEmbedder(),
    threshold: 0.8,
    ttl: '1h',
    log: () => {},
  });
  const modelCalls: string[] = [];
  const ask = defineWorkflow('ask', async (ctx, input: AskInput) => {
    const result = await cachedModelCall(ctx, cache, {
      scope: { ...scope, system: input.system ?? scope.system! },
      request: { messages: [{ role: 'user', content: input.question }] },
      sideEffects: input.sideEffects ?? false,
      call: async () => {
        modelCalls.push(`${ctx.tenant}: ${input.question}`);
        return { text: `answer to '${input.question}' for ${ctx.tenant}` };
      },
    });
    return { text: result.response.text, hit: result.hit };
  });
  const h: Harness = await harness({ workflows: [ask], store: temp.store });
  const runs: string[] = [];
  const run = async (tenant: string, input: AskInput) => {
    const handle = await h.baton.start(ask, input, { tenant });
    runs.push(handle.runId);
    const result = (await handle.result()) as {
      text: string;
      hit?: { match: string; similarity: number; source: { runId: string; seq: number } };
    };
    return { ...result, runId: handle.runId, events: await handle.history() };
  };
  cleanups.push(async () => {
    await h.close();
    await temp.dispose();
  });
  return { h, cache, run, modelCalls, path: temp.path, store: temp.store };
}

const cleanups = cleanupsAfterEach();

const QUESTION = 'Why was my invoice charged twice this month?';

describe('semantic cache', () => {
  it('never serves one tenant an entry of another', async () => {
    const { run, modelCalls } = await setup();
    const acme1 = await run('acme', { question: QUESTION });
    expect(acme1.hit).toBeUndefined();
    const missed = acme1.events.find((e) => e.type === 'cache.missed')!;
    expect(missed.payload).toMatchObject({ stored: true, reason: 'no entry for this scope' });

    // The same request in another tenant is a miss: the model is called again.
    const globex1 = await run('globex', { question: QUESTION });
    expect(globex1.hit).toBeUndefined();
    expect(globex1.text).toBe(`answer to '${QUESTION}' for globex`);
    expect(modelCalls).toEqual([`acme: ${QUESTION}`, `globex: ${QUESTION}`]);

    // Each tenant is then served its own entry, exactly and by similarity, with the run and seq it came from.
    const acme2 = await run('acme', { question: QUESTION });
    expect(acme2.hit).toEqual({
      match: 'exact',
      similarity: 1,
      source: { runId: acme1.runId, seq: missed.seq },
    });
    expect(acme2.text).toBe(`answer to '${QUESTION}' for acme`);
    const globex2 = await run('globex', { question: 'why was my invoice charged twice this month' });
    expect(globex2.hit?.match).toBe('similar');
    expect(globex2.hit?.similarity).toBeGreaterThanOrEqual(0.8);
    expect(globex2.hit?.source.runId).toBe(globex1.runId);
    expect(globex2.text).toBe(`answer to '${QUESTION}' for globex`);
    const hit = globex2.events.find((e) => e.type === 'cache.hit')!.payload;
    expect(hit.source.runId).toBe(globex1.runId);

    // A tenant with no entries gets nothing, however similar the request.
    const initech = await run('initech', { question: QUESTION });
    expect(initech.hit).toBeUndefined();
    expect(modelCalls).toHaveLength(3);
  });

  it('keys entries by system prompt, and never caches a turn with side effects', async () => {
    const { run, modelCalls } = await setup();
    await run('acme', { question: QUESTION });
    const otherSystem = await run('acme', { question: QUESTION, system: 'You are a pirate.' });
    expect(otherSystem.hit).toBeUndefined();

    const effectful = await run('acme', { question: QUESTION, sideEffects: true });
    expect(effectful.hit).toBeUndefined();
    expect(effectful.events.find((e) => e.type === 'cache.missed')!.payload).toMatchObject({
      reason: 'the turn has side effects: never cached',
      stored: false,
    });
    expect(modelCalls).toHaveLength(3);
  });

  it('an entry past its TTL is a miss and is removed', async () => {
    const { h, run, cache } = await setup();
    await run('acme', { question: QUESTION });
    h.clock.advance(HOUR + 1);
    const late = await run('acme', { question: QUESTION });
    expect(late.hit).toBeUndefined();
    expect(late.events.find((e) => e.type === 'cache.missed')!.payload).toMatchObject({
      reason: 'the entry expired',
      stored: true,
    });
    // The expired entry was replaced by the fresh one.
    const again = await run('acme', { question: QUESTION });
    expect(again.hit?.source.runId).toBe(late.runId);
    expect(await cache.prune(h.clock.now())).toBe(0);
  });

  it('an entry whose source run was deleted is a miss and is removed', async () => {
    const { run, path, cache, store } = await setup();
    const first = await run('acme', { question: QUESTION });
    // Retention deletes the run (and its journal) behind Baton's back.
    const raw = new DatabaseSync(path);
    raw.prepare('DELETE FROM events WHERE run_id = ?').run(first.runId);
    raw.prepare('DELETE FROM runs WHERE run_id = ?').run(first.runId);
    raw.close();
    const lookup = await cache.lookup({
      tenant: 'acme',
      scope,
      request: { messages: [{ role: 'user', content: QUESTION }] },
    });
    expect(lookup).toMatchObject({ hit: false, reason: 'the entry came from a run that was deleted' });
    const { scope: recordScope } = cache.keys({ tenant: 'acme', scope, request: null });
    expect(await store.vectorRecords.scanVectorRecords(recordScope)).toEqual([]);
    const second = await run('acme', { question: QUESTION });
    expect(second.hit).toBeUndefined();
  });

  it('refuses a threshold out of range', async () => {
    const { store } = await setup();
    const embedder = new LexicalEmbedder();
    expect(() => new SemanticCache({ records: store.vectorRecords, embedder, threshold: 0 })).toThrow(
      'The semantic cache threshold must be a number greater than 0 and at most 1, got 0.',
    );
    expect(() => new SemanticCache({ records: store.vectorRecords, embedder, threshold: 1.01 })).toThrow(
      /at most 1, got 1.01/,
    );
    expect(() => new SemanticCache({ records: undefined, embedder })).toThrow(
      /does not offer vector records/,
    );
  });
});
