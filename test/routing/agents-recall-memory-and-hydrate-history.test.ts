import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../src/agents/agent.ts';
import { workflow, type AgentContext } from '../../src/context-layers.ts';
import { messageTokens } from '../../src/agents/history-budget.ts';
import { requestMessages } from '../../src/agents/messages.ts';
import { tool } from '../../src/agents/tool.ts';
import { defineWorkflow } from '../../src/engine/workflow.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { LexicalEmbedder } from '../../src/routing/lexical-embedder.ts';
import { LongTermMemory } from '../../src/routing/memory.ts';
import { routingLayer, type RoutingContext } from '../../src/routing/routing-context.ts';
import { scriptedModel, type ScriptedRequest } from '../../src/testing/index.ts';
import { harness, tempStore } from '../support/harness.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';

const cleanups = cleanupsAfterEach();

const of = <T extends JournalEvent['type']>(events: readonly JournalEvent[], type: T): JournalEvent<T>[] =>
  events.filter((event): event is JournalEvent<T> => event.type === type);

const systemText = (request: ScriptedRequest): string => {
  const system = request.prompt.find((message) => message.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
};

describe('agents recall long-term memory and hydrate long histories', () => {
  it('recalls the memories relevant to the task before the first turn, journaled, in the tenant only', async () => {
    const temp = await tempStore();
    const memory = new LongTermMemory({ records: temp.store.vectorRecords, embedder: new LexicalEmbedder() });
    const model = scriptedModel(
      Array.from(
        { length: 4 },
        () => (request: ScriptedRequest) =>
          systemText(request).includes('prefers email')
            ? 'Write to Ada by email.'
            : 'I do not know how Ada likes to be contacted.',
      ),
    );
    const concierge = agent({
      name: 'concierge',
      description: 'Knows the customers',
      instructions: 'You help the team contact customers.',
      model,
      memory: { recall: { tokens: 40 } },
    });
    const remember = defineWorkflow<{ facts: string[] }, null, AgentContext & RoutingContext>(
      'remember',
      async (ctx, input) => {
        for (const fact of input.facts) await ctx.memory.remember(fact, { agent: 'agent:concierge' });
        return null;
      },
    );
    const ask = workflow('ask', (ctx, input: { task: string }) => ctx.runAgent(concierge, input.task));
    const h = await harness({
      workflows: [remember, ask],
      store: temp.store,
      agents: { memory },
      layers: [routingLayer({ memory })],
    });
    cleanups.push(async () => {
      await h.close();
      await temp.dispose();
    });
    const facts = [
      'Ada prefers email over phone calls, and never before 9am.',
      'The office plant on the third floor needs water on Mondays.',
      'Quarterly invoices are sent on the first working day.',
    ];
    await (await h.baton.start(remember, { facts }, { tenant: 'acme' })).result();

    const run = await h.baton.start(
      ask,
      { task: 'How should we contact Ada: email or phone?' },
      { tenant: 'acme' },
    );
    expect(await run.result()).toBe('Write to Ada by email.');
    const events = await run.history();
    expect(events.map((event) => event.type)).toEqual([
      'run.started',
      'agent.started',
      'memory.recalled',
      'llm.called',
      'agent.completed',
      'run.completed',
    ]);
    const recalled = of(events, 'memory.recalled')[0]!.payload;
    expect(recalled.name).toBe('agent:concierge');
    expect(recalled.items[0]!.text).toBe(facts[0]);
    expect(recalled.items.reduce((sum, item) => sum + item.tokens, 0)).toBeLessThanOrEqual(40);
    // What the model was sent is in the journal: the system prompt with the memories after it.
    const sent = requestMessages(events, of(events, 'llm.called')[0]!);
    expect(sent).toEqual(model.calls[0]!.prompt);
    expect(systemText(model.calls[0]!)).toContain(
      `You help the team contact customers.\n\nFrom your long-term memory`,
    );

    // Another tenant's agent recalls nothing of acme's.
    const other = await h.baton.start(
      ask,
      { task: 'How should we contact Ada: email or phone?' },
      { tenant: 'globex' },
    );
    expect(await other.result()).toBe('I do not know how Ada likes to be contacted.');
    expect(of(await other.history(), 'memory.recalled')[0]!.payload.items).toEqual([]);
    expect(systemText(model.calls[1]!)).toBe('You help the team contact customers.');
  });

  it('keeps the tokens sent per call under the budget over a long conversation, while the fact it needs stays in context', async () => {
    const PAGES = 60;
    const BUDGET = 500;
    const read = tool({
      name: 'notes.read',
      description: 'Reads a page of the notes',
      input: z.object({ page: z.number().int() }),
      effect: 'read',
      execute: ({ page }) =>
        page === 1
          ? 'Page 1: Ada Lovelace opened her account today; her account number is ACC-4417.'
          : `Page ${page}: on day ${page} the weather was mild, lunch was soup number ${page * 7}, and the meeting about topic ${page * 13} ran long.`,
    });
    const model = scriptedModel(
      Array.from({ length: PAGES + 1 }, () => (request: ScriptedRequest) => {
        if (request.call <= PAGES)
          return { toolCalls: [{ name: 'notes.read', args: { page: request.call } }] };
        const seen = JSON.stringify(request.prompt).match(/ACC-\d+/);
        return seen ? `Ada's account number is ${seen[0]}.` : 'I no longer know the account number.';
      }),
    );
    const researcher = agent({
      name: 'researcher',
      description: 'Reads notes',
      instructions: 'Read every page of the notes, one at a time, then answer.',
      model,
      tools: [read],
      maxTurns: PAGES + 1,
      historyBudget: { tokens: BUDGET },
    });
    const flow = workflow('research', (ctx) =>
      ctx.runAgent(researcher, "Read the notes page by page, then tell me Ada's account number."),
    );
    const h = await harness({ workflows: [flow] });
    cleanups.push(() => h.close());
    const run = await h.baton.start(flow, {});
    expect(await run.result()).toBe("Ada's account number is ACC-4417.");

    const sentTokens = model.calls.map((call) =>
      call.prompt.reduce((sum, message) => sum + messageTokens(message), 0),
    );
    expect(Math.max(...sentTokens)).toBeLessThanOrEqual(BUDGET);
    const events = await run.history();
    const calls = of(events, 'llm.called');
    expect(calls).toHaveLength(PAGES + 1);
    const last = calls.at(-1)!.payload.hydration!;
    // The whole history would have been several times the budget; most of it was left out.
    expect(last.fullTokens).toBeGreaterThan(4 * BUDGET);
    expect(last.omitted).toBeGreaterThan(PAGES);
    expect(last.tokens).toBe(sentTokens.at(-1));
    // The journal refers to exactly what each call sent.
    calls.forEach((call, index) => expect(requestMessages(events, call)).toEqual(model.calls[index]!.prompt));
    // Early calls fit whole and say nothing of hydration.
    expect(calls[0]!.payload.hydration).toBeUndefined();
  });
});
