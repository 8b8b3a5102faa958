import { describe, expect, it } from 'vitest';
import type { WorkflowContext } from '../../src/engine/context.ts';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import { buildContext, type HistoryMessage } from '../../src/routing/context-builder.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { LongTermMemory, type RecalledMemory } from '../../src/routing/memory.ts';
import { routingLayer, type RoutingContext } from '../../src/routing/routing-context.ts';
import { harness, tempStore, type Harness } from '../support/harness.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';

type Ctx = WorkflowContext & RoutingContext;
const FACTS = [
  'The customer prefers to be contacted by email, never by phone.',
  'The customer is on the enterprise plan, billed yearly in EUR.',
  'The customer reported a broken screen on their laptop in March.',
];

const cleanups = cleanupsAfterEach();

async function setup() {
  const temp = await tempStore();
  const embedder = new LexicalEmbedder();
  const logs: string[] = [];
  let memory = new LongTermMemory({ records: temp.store.vectorRecords, embedder, log: (m) => logs.push(m) });
  const learn = defineWorkflow<{ facts: string[] }, string[], Ctx>('learn', async (ctx, input) => {
    const keys = [];
    for (const fact of input.facts)
      keys.push(await ctx.memory.remember(fact, { agent: 'agent:support', kind: 'fact' }));
    await ctx.waitFor('go');
    return keys;
  });
  const ask = defineWorkflow<{ query: string; tokens: number }, RecalledMemory[][], Ctx>(
    'ask',
    async (ctx, input) => {
      const first = await ctx.memory.recall(input.query, { tokens: input.tokens, agent: 'agent:support' });
      await ctx.waitFor('go');
      const second = await ctx.memory.recall(input.query, { tokens: input.tokens, agent: 'agent:support' });
      return [first, second];
    },
  );
  const h: Harness = await harness({
    workflows: [learn, ask],
    store: temp.store,
    // Read at each activation, so a renewed memory (a fresh process) is the one the run gets.
    layers: [
      routingLayer({
        get memory() {
          return memory;
        },
      }),
    ],
  });
  cleanups.push(async () => {
    await h.close();
    await temp.dispose();
  });
  return {
    h,
    learn,
    ask,
    logs,
    store: temp.store,
    renewMemory: () =>
      (memory = new LongTermMemory({
        records: temp.store.vectorRecords,
        embedder,
        log: (m) => logs.push(m),
      })),
  };
}

describe('long-term memory', () => {
  it('recalls the most relevant memories within the token budget, per tenant, and replays what it recalled', async () => {
    const { h, learn, ask } = await setup();
    const taught = await h.baton.start(learn, { facts: FACTS }, { tenant: 'acme' });
    await h.settle(taught.runId, 'waiting');
    await h.baton.signal(taught.runId, 'go');
    await taught.result();

    const asking = await h.baton.start(
      ask,
      { query: 'How should we contact the customer: email or phone?', tokens: 40 },
      { tenant: 'acme' },
    );
    await h.settle(asking.runId, 'waiting');
    // More memories arrive while the run is parked: the replayed recall still returns what it returned.
    const more = await h.baton.start(
      learn,
      { facts: ['Contact the customer by email at ops@acme.test, or by phone after 5pm.'] },
      { tenant: 'acme' },
    );
    await h.settle(more.runId, 'waiting');
    await h.baton.signal(asking.runId, 'go');
    const [first, second] = await asking.result();
    expect(first![0]!.text).toBe(FACTS[0]);
    expect(first!.map((m) => m.text)).not.toContain(FACTS[2]);
    expect(first!.reduce((sum, m) => sum + m.tokens, 0)).toBeLessThanOrEqual(40);
    const recalled = (await asking.history())
      .filter((e) => e.type === 'memory.recalled')
      .map((e) => e.payload);
    expect(recalled).toHaveLength(2);
    expect(recalled[0]!.items).toEqual(first);
    // The second recall ran after the new memory arrived and sees it.
    expect(second!.map((m) => m.text)).toContain(
      'Contact the customer by email at ops@acme.test, or by phone after 5pm.',
    );

    const elsewhere = await h.baton.start(
      ask,
      { query: 'How should we contact the customer: email or phone?', tokens: 200 },
      { tenant: 'globex' },
    );
    await h.settle(elsewhere.runId, 'waiting');
    await h.baton.signal(elsewhere.runId, 'go');
    expect(await elsewhere.result()).toEqual([[], []]);
  });

  it('a memory journaled but lost before it reached the store is written on replay', async () => {
    const { h, learn, logs, store, renewMemory } = await setup();
    const run = await h.baton.start(learn, { facts: [FACTS[1]!] }, { tenant: 'acme' });
    await h.settle(run.runId, 'waiting');
    const scope = { collection: 'memory', tenant: 'acme', partition: 'agent:support' };
    const [key] = (await store.vectorRecords.scanVectorRecords(scope)).map((record) => record.key);
    expect(key).toBe(`${run.runId}:1`);
    await store.vectorRecords.deleteVectorRecords(scope, [key!]);
    renewMemory(); // a fresh process
    await h.baton.signal(run.runId, 'go');
    expect(await run.result()).toEqual([key]);
    expect(
      (await store.vectorRecords.getVectorRecords(scope, [key!])).map((record) => [
        record.text,
        record.sourceRunId,
      ]),
    ).toEqual([[FACTS[1], run.runId]]);
    expect(logs.some((line) => line.includes('was journaled but not stored'))).toBe(true);
  });

  it('refuses a recall without a positive token budget', async () => {
    const { store } = await setup();
    const memory = new LongTermMemory({ records: store.vectorRecords, embedder: new LexicalEmbedder() });
    await expect(memory.search('acme', 'agent:support', 'anything', { tokens: 0 })).rejects.toThrow(
      'The recall token budget must be a positive whole number, got 0.',
    );
    await expect(
      memory.search('acme', 'agent:support', 'anything', { tokens: 10, minScore: 2 }),
    ).rejects.toThrow(/minScore is a cosine similarity/);
  });
});

describe('selective hydration', () => {
  it('fills the budget with the relevant earlier turn and the latest turns instead of the whole history', async () => {
    const messages: HistoryMessage[] = [
      { role: 'system', content: 'You are a support agent for a laptop shop.' },
    ];
    for (let turn = 0; turn < 200; turn++) {
      const content =
        turn === 17
          ? 'My order number is 88231 and the delivery address is 12 Harbour Street, Leith.'
          : `Turn ${turn}: the customer asks about warranty option ${turn % 7} and the agent explains the terms again.`;
      messages.push({ role: turn % 2 === 0 ? 'user' : 'assistant', content });
    }
    messages.push({
      role: 'user',
      content: 'Can you resend the parcel to my delivery address from earlier?',
    });
    const built = await buildContext({ messages, tokens: 300 });
    expect(built.fullTokens).toBeGreaterThan(3000);
    expect(built.tokens).toBeLessThanOrEqual(300);
    expect(built.messages[0]!.role).toBe('system');
    expect(built.messages.at(-1)!.content).toContain('resend the parcel');
    expect(built.messages.some((m) => m.content.includes('12 Harbour Street'))).toBe(true);
    expect(built.omitted).toBe(messages.length - built.messages.length);
    // Kept in the original order.
    const positions = built.messages.map((m) => messages.indexOf(m));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('sends everything when it fits', async () => {
    const messages: HistoryMessage[] = [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi' },
    ];
    expect(await buildContext({ messages, tokens: 100 })).toMatchObject({ messages, omitted: 0 });
  });
});
