import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import type { JournalMessage } from '../src/agents/messages.ts';
import { tool } from '../src/agents/tool.ts';
import { Baton } from '../src/baton.ts';
import { canonicalJson } from '../src/journal/canonical-json.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scriptedModel } from '../src/testing/index.ts';
import type { Figure } from './harness.ts';

/**
 * One research-agent conversation of `turns` model calls, run for real (Baton, SQLite in memory,
 * the scripted model): each turn but the last searches a document set and gets six ~550-character
 * passages back; the last answers. Returns the journal's bytes (canonical JSON of every event, as
 * hashed) against the bytes of the conversation's unique messages, and what a journal that stores
 * every request whole would hold for the requests alone.
 */
export async function measureConversation(turns: number): Promise<ConversationBytes> {
  const search = tool({
    name: 'docs.search',
    description: 'Searches the document set; returns the best passages.',
    input: z.object({ query: z.string(), limit: z.number().int().min(1).max(10) }),
    effect: 'read',
    execute: ({ query, limit }) => ({
      query,
      passages: Array.from({ length: limit }, (_, index) => ({
        source: `doc-${hash(query, index) % 997}.md`,
        text: passage(query, index),
      })),
    }),
  });
  const model = scriptedModel([
    ...Array.from({ length: turns - 1 }, (_, index) => ({
      text: `Looking into aspect ${index + 1} next.`,
      toolCalls: [
        { name: 'docs.search', args: { query: `aspect ${index + 1} of durable agent runtimes`, limit: 6 } },
      ],
    })),
    { text: passage('final answer', 0) },
  ]);
  const researcher = agent({
    name: 'researcher',
    description: 'Researches a question in the document set',
    instructions: INSTRUCTIONS,
    model,
    tools: [search],
    maxTurns: turns,
  });
  const flow = workflow('bench.research', async (ctx, input: { question: string }) =>
    ctx.runAgent(researcher, input.question),
  );
  const store = SqliteStore.open({ path: ':memory:' });
  const baton = await Baton.open({ store, workflows: [flow], worker: { pollMs: 5 } });
  try {
    const run = await baton.start(flow, { question: QUESTION });
    await run.result();
    const events = await run.history();
    const journalBytes = events.reduce((sum, event) => sum + Buffer.byteLength(canonicalJson(event)), 0);
    const last = model.calls.at(-1)!;
    const answer: JournalMessage = {
      role: 'assistant',
      content: [{ type: 'text', text: passage('final answer', 0) }],
    };
    const unique = new Set([...last.prompt, answer].map((message) => canonicalJson(message)));
    const uniqueMessageBytes = [...unique].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    const wholeRequestBytes = model.calls.reduce(
      (sum, call) => sum + Buffer.byteLength(canonicalJson(call.prompt)),
      0,
    );
    return { turns, events: events.length, journalBytes, uniqueMessageBytes, wholeRequestBytes };
  } finally {
    await baton.close();
    await store.close();
  }
}

export interface ConversationBytes {
  turns: number;
  events: number;
  journalBytes: number;
  uniqueMessageBytes: number;
  wholeRequestBytes: number;
}

/** The figure's rows: bytes at 50, 100 and 200 turns. */
export async function journalBytesBench(
  sizes: readonly number[] = [50, 100, 200],
): Promise<ConversationBytes[]> {
  const rows: ConversationBytes[] = [];
  for (const turns of sizes) rows.push(await measureConversation(turns));
  return rows;
}

/**
 * (d) Journal size of agent conversations: the journal's bytes against the bytes of the
 * conversation's unique messages, at 50, 100 and 200 turns. Bytes are deterministic, so one run
 * each (no repeats).
 */
export const journalBytes: Figure = {
  id: 'journal-bytes',
  title:
    '(d) Journal bytes of 50-, 100- and 200-turn agent conversations vs the bytes of their unique messages',
  async run(bench) {
    bench.log('  running conversations of 50, 100 and 200 turns');
    const rows = await journalBytesBench();
    const kib = (bytes: number): number => bytes / 1024;
    const measurements = rows.flatMap((row) => [
      {
        label: `${row.turns} turns: journal`,
        value: kib(row.journalBytes),
        unit: 'KiB',
        samples: [kib(row.journalBytes)],
      },
      {
        label: `${row.turns} turns: unique messages`,
        value: kib(row.uniqueMessageBytes),
        unit: 'KiB',
        samples: [kib(row.uniqueMessageBytes)],
      },
      {
        label: `${row.turns} turns: requests stored whole`,
        value: kib(row.wholeRequestBytes),
        unit: 'KiB',
        samples: [kib(row.wholeRequestBytes)],
      },
    ]);
    const at = (turns: number): ConversationBytes => rows.find((row) => row.turns === turns)!;
    const perTurn = rows.map(
      (row) =>
        `${Math.round((row.journalBytes - row.uniqueMessageBytes) / row.turns)} B/turn at ${row.turns}`,
    );
    return {
      measurements,
      ratio: {
        label: 'journal / unique message bytes at 200 turns',
        value: at(200).journalBytes / at(200).uniqueMessageBytes,
        aim: { atMost: 1.5 },
      },
      notes: [
        `Linear: journal bytes ×${(at(200).journalBytes / at(100).journalBytes).toFixed(2)} from 100 to 200 turns, ×${(at(100).journalBytes / at(50).journalBytes).toFixed(2)} from 50 to 100 (2.00 is linear); requests stored whole grow ×${(at(200).wholeRequestBytes / at(100).wholeRequestBytes).toFixed(2)}.`,
        `Overhead beyond the messages (3 events a turn: llm.called, tool.requested, tool.called): ${perTurn.join(', ')}.`,
        `Conversation: ${(at(200).uniqueMessageBytes / 200 / 1024).toFixed(1)} KiB of new messages a turn (a search call and six ~550-character passages), ${at(200).events} events at 200 turns.`,
      ],
    };
  },
};

const QUESTION =
  'Compare how durable execution engines and agent frameworks recover an agent loop after a crash, ' +
  'and what each does about tool calls that may have run twice. Cite the passages you rely on.';

const INSTRUCTIONS = [
  'You are a careful research assistant. Answer only from the document set, which you search with docs.search.',
  'Search for each aspect of the question separately; prefer several narrow searches to one broad one.',
  'Quote the passages you rely on with their source, and say when the documents do not answer something.',
  'Keep a running list of open questions and close each one with a search before you answer.',
  'When you answer, lead with a one-paragraph summary, then the details by aspect, then the sources.',
].join(' ');

const WORDS = (
  'journal replay durable workflow agent model tool call crash recovery idempotency key intent result ' +
  'lease worker store commit event sequence hash chain audit principal grant policy approval retry ' +
  'backoff provider stream token usage cost latency handoff conversation message content address'
).split(' ');

function hash(text: string, salt: number): number {
  let value = 2166136261 ^ salt;
  for (let index = 0; index < text.length; index++)
    value = Math.imul(value ^ text.charCodeAt(index), 16777619);
  return value >>> 0;
}

/** A deterministic ~550-character passage. */
function passage(query: string, index: number): string {
  let seed = hash(query, index);
  const words: string[] = [];
  let length = 0;
  while (length < 550) {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507) >>> 0;
    const word = WORDS[seed % WORDS.length]!;
    words.push(word);
    length += word.length + 1;
  }
  return `${words.join(' ')}.`;
}
