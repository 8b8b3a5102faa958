import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { measureConversation } from '../bench/journal-bytes.ts';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { messageStore, requestMessages } from '../src/agents/messages.ts';
import { tool } from '../src/agents/tool.ts';
import { Baton } from '../src/baton.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scriptedModel } from '../src/testing/index.ts';

describe('the journal of an agent conversation', () => {
  it('grows linearly with the conversation, within 1.5× of its unique messages at 200 turns', async () => {
    const [fifty, hundred, twoHundred] = [
      await measureConversation(50),
      await measureConversation(100),
      await measureConversation(200),
    ];
    // Doubling the conversation doubles the journal (a journal of whole requests would quadruple).
    expect(hundred.journalBytes / fifty.journalBytes).toBeGreaterThan(1.9);
    expect(hundred.journalBytes / fifty.journalBytes).toBeLessThan(2.1);
    expect(twoHundred.journalBytes / hundred.journalBytes).toBeLessThan(2.1);
    expect(twoHundred.wholeRequestBytes / hundred.wholeRequestBytes).toBeGreaterThan(3.5);
    expect(twoHundred.journalBytes / twoHundred.uniqueMessageBytes).toBeLessThanOrEqual(1.5);
  });

  it('still holds every request exactly as sent, resolved from message hashes and conversation chains', async () => {
    const echo = tool({
      name: 'echo',
      description: 'Echoes',
      input: z.object({ text: z.string() }),
      effect: 'read',
      execute: ({ text }) => ({ echoed: text }),
    });
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'echo', args: { text: 'one' } },
          { name: 'echo', args: { text: 'two' } },
        ],
      },
      { toolCalls: [{ name: 'missing', args: {} }] },
      { text: 'thinking', toolCalls: [{ name: 'echo', args: { text: 'three' } }] },
      'done',
    ]);
    const bot = agent({
      name: 'echoer',
      description: 'Echoes',
      instructions: 'Echo things.',
      model,
      tools: [echo],
    });
    const flow = workflow('echoes', async (ctx) => ctx.runAgent(bot, { task: 'Echo', context: { n: 3 } }));
    const store = SqliteStore.open({ path: ':memory:' });
    const baton = await Baton.open({ store, workflows: [flow], worker: { pollMs: 5 } });
    try {
      const run = await baton.start(flow, {});
      expect(await run.result()).toBe('done');
      const events = await run.history();
      const calls = events.filter((event) => event.type === 'llm.called');
      expect(calls).toHaveLength(4);
      calls.forEach((call, index) =>
        expect(requestMessages(events, call)).toEqual(model.calls[index]!.prompt),
      );
      // Each message is journaled once.
      const stored = events.flatMap((event) =>
        ((event.payload as { messages?: unknown[] }).messages ?? []).map((m) => JSON.stringify(m)),
      );
      expect(new Set(stored).size).toBe(stored.length);
      expect(messageStore(events).size).toBe(stored.length);
    } finally {
      await baton.close();
      await store.close();
    }
  });
});
