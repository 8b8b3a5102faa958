import { join } from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { startOpenAICompatibleServer } from '../src/testing/openai-compatible-server.ts';
import { interleave, measurement, microsSince, timeCalls, type Figure } from './harness.ts';

/** The answer the local server streams, 3 characters a chunk. */
const ANSWER =
  'Streams reach the reader as the model writes them, from any worker, resumable by cursor. '.repeat(2);
const CHUNK_DELAY_MS = 2;

/**
 * (l) Live tokens: a model's answer from the same local OpenAI-compatible server (chunks 2 ms
 * apart), read by a direct AI SDK `streamText` call and by a reader of a Baton run's live stream
 * (`run.stream()`, the run executed by this process's worker, the parts through the SQLite store).
 * Baton's first token includes starting the run (a committed `run.started`), claiming it and the
 * agent's set-up; per token is the mean gap between tokens after the first.
 */
export const liveStreamLatency: Figure = {
  id: 'stream-latency',
  title: 'Live tokens: Baton run.stream() vs a direct AI SDK streamText call, same local server',
  async run(bench) {
    const server = await startOpenAICompatibleServer(() => ({
      text: ANSWER,
      chunkChars: 3,
      chunkDelayMs: CHUNK_DELAY_MS,
    }));
    const dir = bench.tempDir('stream-latency');
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    const model = `openai-compatible:${server.url}#bench-model`;
    const speaker = agent({ name: 'speaker', description: 'Speaks', instructions: 'Answer.', model });
    const speak = workflow('bench.speak', async (ctx) => ctx.runAgent(speaker, 'Say it.'));
    const baton = await Baton.open({ store, workflows: [speak], worker: { pollMs: 5 }, log: () => {} });
    const provider = createOpenAICompatible({ name: 'bench', baseURL: server.url, apiKey: 'none' });
    const first = { direct: [] as number[], baton: [] as number[] };
    const perToken = { direct: [] as number[], baton: [] as number[] };
    const record = (who: 'direct' | 'baton', start: number, times: number[]): number => {
      first[who].push(times[0]! - start);
      perToken[who].push((times.at(-1)! - times[0]!) / Math.max(1, times.length - 1));
      return times[0]! - start;
    };
    try {
      await interleave(
        {
          direct: async () => {
            const start = performance.now();
            const times: number[] = [];
            const result = streamText({ model: provider('bench-model'), prompt: 'Say it.' });
            for await (const delta of result.textStream) if (delta) times.push(performance.now());
            return record('direct', start, times);
          },
          baton: async () => {
            const start = performance.now();
            const times: number[] = [];
            const run = await baton.start(speak, {});
            for await (const part of run.stream())
              if (part.type === 'text-delta') times.push(performance.now());
            return record('baton', start, times);
          },
        },
        { warmup: bench.warmup, repeats: Math.max(5, Math.round(bench.repeats / 2)) },
      );
      const skip = bench.warmup;
      const directFirst = measurement('direct streamText: first token', 'ms', first.direct.slice(skip));
      const batonFirst = measurement(
        'Baton run.stream(): first token (incl. run start)',
        'ms',
        first.baton.slice(skip),
      );
      const directToken = measurement('direct streamText: per token', 'ms', perToken.direct.slice(skip));
      const batonToken = measurement('Baton run.stream(): per token', 'ms', perToken.baton.slice(skip));
      return {
        measurements: [directFirst, batonFirst, directToken, batonToken],
        ratio: {
          label: 'Baton / direct, per token',
          value: batonToken.value / directToken.value,
          aim: { atMost: 1.5 },
        },
        notes: [
          `First token, Baton / direct: ${(batonFirst.value / directFirst.value).toFixed(2)}x (Baton's includes a durable run start, a claim and the agent's set-up).`,
          `${Math.ceil(ANSWER.length / 3)} chunks of 3 characters, ${CHUNK_DELAY_MS} ms apart; the reader is in the worker's process (parts go through the store).`,
        ],
      };
    } finally {
      await baton.close();
      await store.close();
      await server.close();
    }
  },
};

const STEPS = 200;
const DELTAS = 20;

const chatty = defineWorkflow('bench.chatty', async (ctx, input: { steps: number; deltas: number }) => {
  for (let index = 0; index < input.steps; index++)
    await ctx.step('say', () => {
      for (let delta = 0; delta < input.deltas; delta++) ctx.stream.write({ token: `t${delta}` });
      return index;
    });
});

/**
 * (m) The cost of deltas on a step's commit path: a run of 200 steps, each writing 20 parts to
 * its live stream (as a model call writes tokens) with nobody reading, against the same run on a
 * Baton whose streams are off (`streams: { enabled: false }`, nothing written). Both on SQLite with
 * the same durability, interleaved.
 */
export const liveStreamCommitCost: Figure = {
  id: 'stream-commit',
  title: `Deltas on the commit path: ${STEPS} steps x ${DELTAS} stream parts, no reader, vs streams off`,
  async run(bench) {
    const dir = bench.tempDir('stream-commit');
    const on = SqliteStore.open({ path: join(dir, 'on.db') });
    const off = SqliteStore.open({ path: join(dir, 'off.db') });
    const streaming = await Baton.open({
      store: on,
      workflows: [chatty],
      worker: { concurrency: 1 },
      log: () => {},
    });
    const silent = await Baton.open({
      store: off,
      workflows: [chatty],
      worker: { concurrency: 1 },
      streams: { enabled: false },
      log: () => {},
    });
    const commits = { on: timeCalls(on, 'commit'), off: timeCalls(off, 'commit') };
    const inCommit = { on: [] as number[], off: [] as number[] };
    const runOnce = async (baton: Baton, which: 'on' | 'off'): Promise<number> => {
      const start = performance.now();
      const before = commits[which].micros;
      const run = await baton.start(chatty, { steps: STEPS, deltas: DELTAS });
      await run.result();
      inCommit[which].push((commits[which].micros - before) / STEPS);
      return microsSince(start) / STEPS;
    };
    try {
      const samples = await interleave(
        { off: () => runOnce(silent, 'off'), on: () => runOnce(streaming, 'on') },
        { warmup: bench.warmup, repeats: bench.repeats },
      );
      const offStep = measurement('streams off: per step', 'µs/step', samples.off);
      const onStep = measurement(
        `streams on, ${DELTAS} parts a step, no reader: per step`,
        'µs/step',
        samples.on,
      );
      const offCommit = measurement(
        '  streams off: in the store commit',
        'µs/step',
        inCommit.off.slice(bench.warmup),
      );
      const onCommit = measurement(
        '  streams on: in the store commit',
        'µs/step',
        inCommit.on.slice(bench.warmup),
      );
      return {
        measurements: [offStep, onStep, offCommit, onCommit],
        ratio: {
          label: 'streams on / off, per step',
          value: onStep.value / offStep.value,
          aim: { atMost: 1.1 },
        },
        notes: [
          `Store commit time per step, on / off: ${(onCommit.value / offCommit.value).toFixed(2)}x.`,
          "Parts are batched in the background (one write at most every 10 ms; the step never waits for them) and go through the store's own SQLite connection, each batch a transaction committed with synchronous=NORMAL (decision 0030), a run's parts of a batch in one row (decision 0040).",
        ],
      };
    } finally {
      await streaming.close();
      await silent.close();
      await on.close();
      await off.close();
    }
  },
};
