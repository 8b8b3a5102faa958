import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { workflow } from '../../src/context-layers.ts';
import { requestMessages } from '../../src/agents/messages.ts';
import { tool } from '../../src/agents/tool.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { scriptedModel, type ScriptedRequest } from '../../src/testing/index.ts';
import { harness, tempStore, type Harness } from '../support/harness.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';

const cleanups = cleanupsAfterEach();

const of = <T extends JournalEvent['type']>(events: readonly JournalEvent[], type: T): JournalEvent<T>[] =>
  events.filter((event): event is JournalEvent<T> => event.type === type);

const INSTRUCTIONS = 'You answer billing questions.';
const QUESTION = 'Why was my invoice charged twice this month?';

/**
 * A billing agent that caches its turns, on a Baton whose cache lives in a SQLite file. The model
 * answers a question with a numbered answer, looks an invoice up when asked to, and refunds when
 * asked to; `answers` counts what it was really asked.
 */
async function setup() {
  const temp = await tempStore();
  const refunds: string[] = [];
  const lookups: string[] = [];
  const lookup = tool({
    name: 'invoices.lookup',
    description: 'Looks an invoice up',
    input: z.object({ invoice: z.string() }),
    effect: 'read',
    execute: ({ invoice }) => {
      lookups.push(invoice);
      return { invoice, total: 4200 };
    },
  });
  const refund = tool({
    name: 'payments.refund',
    description: 'Refunds an invoice',
    input: z.object({ invoice: z.string() }),
    effect: 'irreversible',
    execute: ({ invoice }) => {
      refunds.push(invoice);
      return { refunded: invoice };
    },
  });
  let answered = 0;
  const reply = (request: ScriptedRequest) => {
    const result = request.toolResults[0];
    if (result) return `Done: ${JSON.stringify(result.output)}`;
    if (request.lastUserText.startsWith('Refund'))
      return { toolCalls: [{ name: 'payments.refund', args: { invoice: 'INV-7' } }] };
    if (request.lastUserText.startsWith('Look up'))
      return { toolCalls: [{ name: 'invoices.lookup', args: { invoice: 'INV-7' } }] };
    answered++;
    return `Answer #${answered}: a duplicate authorization, released within 3 days.`;
  };
  const model = scriptedModel(
    Array.from({ length: 40 }, () => reply),
    { modelId: 'mini' },
  );
  const billing = agent({
    name: 'billing',
    description: 'Answers billing questions',
    instructions: INSTRUCTIONS,
    model,
    tools: [lookup, refund],
    cache: { ttl: '1h' },
  });
  const ask = workflow('ask', async (ctx, input: { question: string; wait?: boolean }) => {
    const answer = await ctx.runAgent(billing, input.question);
    if (input.wait) await ctx.waitFor('finish');
    return answer;
  });
  const h: Harness = await harness({
    workflows: [ask],
    store: temp.store,
    agents: { cache: { threshold: 0.8, ttl: '1d', log: () => {} } },
  });
  cleanups.push(async () => {
    await h.close();
    await temp.dispose();
  });
  const run = async (tenant: string, question: string) => {
    const handle = await h.baton.start(ask, { question }, { tenant });
    const output = await handle.result();
    return { runId: handle.runId, output, events: await handle.history() };
  };
  return { h, ask, run, model, refunds, lookups, path: temp.path, store: temp.store };
}

describe('agents answer from the semantic cache', () => {
  it('fails a caching agent on a Baton without a cache with an error that says how to configure one', async () => {
    const billing = agent({
      name: 'billing',
      description: 'Answers billing questions',
      instructions: INSTRUCTIONS,
      model: scriptedModel(['never asked']),
      cache: true,
    });
    const ask = workflow('ask', (ctx) => ctx.runAgent(billing, QUESTION));
    const h = await harness({ workflows: [ask] });
    cleanups.push(() => h.close());
    const run = await h.baton.start(ask, {});
    await expect(run.result()).rejects.toThrow(
      /this Baton has none: pass Baton.open\(\{ agents: \{ cache: \{\} \} \}\)/,
    );
  });

  it('answers a repeated or similar question from the cache, journals where the reply came from, and never across tenants', async () => {
    const { run, model } = await setup();
    const first = await run('acme', QUESTION);
    expect(first.output).toBe('Answer #1: a duplicate authorization, released within 3 days.');
    const live = of(first.events, 'llm.called')[0]!;
    expect(live.payload.cache).toBeUndefined();
    expect(model.calls).toHaveLength(1);

    // The same question in the same tenant: no model call; the reply names the run and seq it came from.
    const again = await run('acme', QUESTION);
    expect(again.output).toBe(first.output);
    expect(model.calls).toHaveLength(1);
    const hit = of(again.events, 'llm.called')[0]!;
    expect(hit.payload.cache).toEqual({ runId: first.runId, seq: live.seq, similarity: 1 });
    expect(hit.payload.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(hit.payload.cost).toEqual({ usd: 0, priced: true });
    expect(hit.payload.provider).toBe(live.payload.provider);
    expect(requestMessages(again.events, hit)).toEqual(requestMessages(first.events, live));

    // Tenant B never gets tenant A's entry: the model is asked again.
    const other = await run('globex', QUESTION);
    expect(other.output).toBe('Answer #2: a duplicate authorization, released within 3 days.');
    expect(of(other.events, 'llm.called')[0]!.payload.cache).toBeUndefined();
    expect(model.calls).toHaveLength(2);

    // A similar question (above the threshold) is answered from tenant A's own entry.
    const similar = await run('acme', 'Why was my invoice charged twice this month? Please explain.');
    expect(similar.output).toBe(first.output);
    const near = of(similar.events, 'llm.called')[0]!.payload.cache!;
    expect(near.runId).toBe(first.runId);
    expect(near.similarity).toBeGreaterThanOrEqual(0.8);
    expect(near.similarity).toBeLessThan(1);
    // An unrelated question is not.
    const unrelated = await run('acme', 'Which shipping carriers deliver to Norway on Sundays?');
    expect(unrelated.output).toMatch(/^Answer #3/);
    expect(model.calls).toHaveLength(3);
  });

  it('never stores a turn with side effects: a reply that calls an irreversible tool is asked again, one that calls a read tool is served', async () => {
    const { run, model, refunds, lookups } = await setup();
    const first = await run('acme', 'Refund invoice INV-7');
    expect(first.output).toBe('Done: {"refunded":"INV-7"}');
    const second = await run('acme', 'Refund invoice INV-7');
    expect(second.output).toBe(first.output);
    // The turn that refunds reached the model again, and the refund ran once per run.
    expect(of(second.events, 'llm.called')[0]!.payload.cache).toBeUndefined();
    expect(of(second.events, 'llm.called')[0]!.payload.response.toolCalls.map((call) => call.name)).toEqual([
      'payments_refund',
    ]);
    expect(refunds).toEqual(['INV-7', 'INV-7']);
    const modelCalls = model.calls.length;

    const look = await run('acme', 'Look up invoice INV-7');
    const lookAgain = await run('acme', 'Look up invoice INV-7');
    expect(lookAgain.output).toBe(look.output);
    // Both turns of the second run came from the cache (the read tool's call, then the answer);
    // the read tool itself ran in each run, since tools are not cached.
    const cached = of(lookAgain.events, 'llm.called').map((event) => event.payload.cache?.runId);
    expect(cached).toEqual([look.runId, look.runId]);
    expect(model.calls.length).toBe(modelCalls + 2);
    expect(lookups).toEqual(['INV-7', 'INV-7']);
  });

  it('replays a cached turn from the journal, and treats an entry whose source run was deleted as a miss and removes it', async () => {
    const { h, run, model, path, store } = await setup();
    const source = await run('acme', QUESTION);
    const waiting = await h.baton.start(
      h.baton.workflows.get('ask')!,
      { question: QUESTION, wait: true },
      { tenant: 'acme' },
    );
    await h.settle(waiting.runId, 'waiting');
    const served = of(await waiting.history(), 'llm.called')[0]!;
    expect(served.payload.cache?.runId).toBe(source.runId);
    expect(model.calls).toHaveLength(1);

    // Retention deletes the source run behind Baton's back.
    const raw = new DatabaseSync(path);
    raw.prepare('DELETE FROM events WHERE run_id = ?').run(source.runId);
    raw.prepare('DELETE FROM runs WHERE run_id = ?').run(source.runId);
    raw.close();

    // The waiting run resumes by replay: its cached turn comes from its journal, not the cache
    // (whose entry is now a miss), so no model is asked.
    await h.baton.signal(waiting.runId, 'finish');
    expect(await waiting.result()).toBe(source.output);
    expect(model.calls).toHaveLength(1);

    // A new run misses (the entry's source is gone), asks the model, and its answer replaces the entry.
    const fresh = await run('acme', QUESTION);
    expect(fresh.output).toMatch(/^Answer #2/);
    expect(of(fresh.events, 'llm.called')[0]!.payload.cache).toBeUndefined();
    const records = await store.vectorRecords.scanVectorRecords({
      collection: 'cache',
      tenant: 'acme',
      partition: cachePartition(h),
    });
    expect(records.map((record) => record.sourceRunId)).toEqual([fresh.runId]);
  });
});

/** The partition of the billing agent's first turns: the cache's scope (model, system prompt, tools, one user message). */
function cachePartition(h: Harness): string {
  return h.baton.agents.cache!.keys({
    tenant: 'acme',
    scope: {
      model: 'baton-testing:mini',
      system: INSTRUCTIONS,
      tools: ['invoices_lookup', 'payments_refund'],
      shape: 'user',
    },
    request: null,
  }).scope.partition;
}
