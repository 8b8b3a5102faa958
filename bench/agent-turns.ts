import { join } from 'node:path';
import { z } from 'zod';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { tool } from '../src/agents/tool.ts';
import { Baton } from '../src/baton.ts';
import { canonicalJson } from '../src/journal/canonical-json.ts';
import type { JournalEvent, JournalEventPayloads } from '../src/journal/events.ts';
import type { JournalWrite } from '../src/store/store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { interleave, measurement, median, microsSince, type Figure } from './harness.ts';
import { RawSqlite } from './raw-sqlite.ts';

/** Messages in the request of the measured model call: system, task, then 99 turns of (call, result). */
const HISTORY = 200;
const TURNS = HISTORY / 2;
/** Model calls at the end of the conversation whose commits make one sample (see the notes). */
const LAST_CALLS = 9;
/** Rows the raw baseline inserts per repeat (one transaction each), for a steadier per-row figure. */
const RAW_ROWS = 20;
const ANSWER = `${'The findings, in short: '.padEnd(80, '.')} ${'durable agents journal each call once. '.repeat(12)}`;

/**
 * (k) Agent turns: the journal cost of one model call whose request holds a 200-message history.
 * Messages are content-addressed (src/agents/messages.ts): the call journals references to the
 * history and only the model's new reply. Its commit (SQLite, WAL, synchronous=FULL) is compared
 * with a raw insert+commit of the new message's bytes alone, and its bytes with the message's.
 */
export const agentTurns: Figure = {
  id: 'agent-turns',
  title: `(k) Agent turns: journaling one model call with a ${HISTORY}-message history vs a raw insert of the new message's bytes`,
  async run(bench) {
    const dir = bench.tempDir('agent-turns');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const raw = new RawSqlite(join(dir, 'raw.db'));
    const commits: { writes: readonly JournalWrite[]; micros: number }[] = [];
    const commit = store.commit.bind(store);
    store.commit = async (writes, now) => {
      const start = performance.now();
      try {
        return await commit(writes, now);
      } finally {
        commits.push({ writes, micros: microsSince(start) });
      }
    };
    const baton = await Baton.open({ store, workflows: [conversation], worker: { pollMs: 5 } });
    let last: { event: JournalEvent<'llm.called'>; micros: number; writeEvents: number } | undefined;
    const reply = { role: 'assistant', content: [{ type: 'text', text: ANSWER }] };
    const replyBytes = Buffer.byteLength(canonicalJson(reply));
    try {
      const samples = await interleave(
        {
          raw: () =>
            raw.insertEach(Array.from({ length: RAW_ROWS }, (_, index) => messageRow(reply, index + 1))),
          baton: async () => {
            commits.length = 0;
            const run = await baton.start(conversation, { turns: TURNS });
            await run.result();
            const events = await run.history();
            const called = events.filter(
              (event): event is JournalEvent<'llm.called'> => event.type === 'llm.called',
            );
            const event = called.at(-1)!;
            const write = commits.find((entry) =>
              entry.writes.some((w) => w.events.some((e) => e.runId === event.runId && e.seq === event.seq)),
            )!;
            last = {
              event,
              micros: write.micros,
              writeEvents: write.writes.reduce((sum, w) => sum + w.events.length, 0),
            };
            // One fsync is one sample of a noisy disk: the figure is the median commit of the last
            // LAST_CALLS calls, whose requests hold HISTORY - 2 × (LAST_CALLS - 1) to HISTORY messages.
            const micros = called
              .slice(-LAST_CALLS)
              .map(
                (call) =>
                  commits.find((entry) =>
                    entry.writes.some((w) =>
                      w.events.some((e) => e.runId === call.runId && e.seq === call.seq),
                    ),
                  )!.micros,
              );
            return median(micros);
          },
        },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const rawRow = measurement(
        `raw insert+commit of the new message (${replyBytes.toLocaleString('en-US')} B)`,
        'µs',
        samples.raw,
      );
      const call = measurement(
        `Baton: commit of a model call (llm.called), median of the last ${LAST_CALLS}`,
        'µs',
        samples.baton,
      );
      const event = last!.event;
      const eventBytes = Buffer.byteLength(canonicalJson(event));
      const requestMessages = (event.payload.request.base ? 1 : 0) + event.payload.request.append.length;
      return {
        measurements: [
          rawRow,
          call,
          {
            label: 'bytes journaled for the call (llm.called)',
            value: eventBytes,
            unit: 'B',
            samples: [eventBytes],
          },
          {
            label: "bytes of the new message (the model's reply)",
            value: replyBytes,
            unit: 'B',
            samples: [replyBytes],
          },
        ],
        ratio: {
          label: 'model call commit / raw insert of its new bytes',
          value: call.value / rawRow.value,
          aim: { atMost: 1.5 },
        },
        notes: [
          `Bytes: the call journals ${(eventBytes / replyBytes).toFixed(2)}× its new message's bytes (a request of ${HISTORY} messages referred to by ${requestMessages} hash(es): base + new).`,
          `Baton: per repeat, the median commit of the last ${LAST_CALLS} calls (requests of ${HISTORY - 2 * (LAST_CALLS - 1)}–${HISTORY} messages); bytes are the last call's. Raw: the mean of ${RAW_ROWS} single-row transactions per repeat. The last call's commit held ${last!.writeEvents} event(s); SQLite file, WAL, synchronous=FULL, one run of ${TURNS} model calls (scripted model, a tool call and its result each turn).`,
        ],
      };
    } finally {
      await baton.close();
      await store.close();
      raw.close();
    }
  },
};

const notes = tool({
  name: 'notes.read',
  description: 'Reads the next page of notes.',
  input: z.object({ page: z.number().int() }),
  effect: 'read',
  execute: ({ page }) => ({
    page,
    text: `Page ${page}: ${'notes on durable execution and agents. '.repeat(12)}`,
  }),
});

const conversation = workflow('bench.agent-turns', async (ctx, input: { turns: number }) => {
  const model = scriptedModel([
    ...Array.from({ length: input.turns - 1 }, (_, index) => ({
      text: `Reading page ${index + 1}.`,
      toolCalls: [{ name: 'notes.read', args: { page: index + 1 } }],
    })),
    { text: ANSWER },
  ]);
  const reader = agent({
    name: 'reader',
    description: 'Reads notes and sums them up',
    instructions: 'Read every page, then sum up.',
    model,
    tools: [notes],
    maxTurns: input.turns,
  });
  return ctx.runAgent(reader, 'Sum up the notes.');
});

/** The new message as one journal row, for the raw baseline. */
function messageRow(message: unknown, seq: number): JournalEvent {
  return {
    runId: 'raw',
    seq,
    type: 'llm.called',
    at: new Date().toISOString(),
    actor: 'agent:reader',
    onBehalfOf: ['user:bench'],
    payload: message as JournalEventPayloads['llm.called'],
    prevHash: '0'.repeat(64),
    hash: '0'.repeat(64),
  };
}
