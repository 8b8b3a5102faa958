import type { LanguageModelV4 } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { Baton } from '../src/baton.ts';
import type { RunStreamPart } from '../src/engine/run-stream-parts.ts';
import { StreamCursorError } from '../src/engine/stream-errors.ts';
import { scriptedModel } from '../src/testing/index.ts';
import { gate, tempStore } from './support/harness.ts';
import { pacedModel } from './support/paced-model.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const cleanup = cleanupsAfterEach();

async function collect(parts: AsyncIterable<RunStreamPart>): Promise<RunStreamPart[]> {
  const out: RunStreamPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

const textOf = (parts: readonly RunStreamPart[]): string =>
  parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');

async function open(
  model: LanguageModelV4 = scriptedModel(['The answer is forty-two, as always.'], { chunkSize: 4 }),
) {
  const { store, dispose } = await tempStore();
  const writer = agent({ name: 'writer', description: 'Writes', instructions: 'Answer.', model });
  const answer = workflow('answer', async (ctx, input: { question: string }) => {
    await ctx.step('prepare', () => {
      ctx.stream.write({ stage: 'prepared' });
      return 'ok';
    });
    return ctx.runAgent(writer, input.question);
  });
  const baton = await Baton.open({ store, workflows: [answer], worker: { pollMs: 10 } });
  cleanup.push(async () => {
    await baton.close();
    await dispose();
  });
  return { baton, answer, store };
}

describe('a run stream', () => {
  it('carries journal events, step markers, progress and the model text, and ends when the run does', async () => {
    const { baton, answer } = await open();
    const run = await baton.start(answer, { question: 'What is the answer?' });
    const parts = await collect(run.stream());
    expect(textOf(parts)).toBe('The answer is forty-two, as always.');
    const types = parts.map((part) => part.type);
    expect(types[0]).toBe('event');
    expect(types).toContain('step-started');
    expect(types).toContain('model-start');
    expect(types).toContain('model-finish');
    expect(parts.find((part) => part.type === 'progress')).toMatchObject({ data: { stage: 'prepared' } });
    expect(parts.at(-1)).toMatchObject({ type: 'end', status: 'completed' });
    const events = parts.flatMap((part) => (part.type === 'event' ? [part.event] : []));
    expect(events.map((event) => event.seq)).toEqual((await run.history()).map((event) => event.seq));
    // Parts are ephemeral and written in batches: one follows at least the events committed before
    // it was made, and may come after later ones (docs/decisions/0018). The step's marker names its
    // op; the run's end comes after all of the model's text.
    const stepped = parts.find((part) => part.type === 'step-started');
    const completed = events.find((event) => event.type === 'step.completed');
    expect(stepped).toMatchObject({ op: completed?.payload.op });
    const index = (predicate: (part: RunStreamPart) => boolean) => parts.findIndex(predicate);
    expect(index((part) => part.type === 'model-finish')).toBeLessThan(parts.length - 1);
    // Every part has its own cursor; `end` repeats the last one (nothing follows it).
    const cursors = parts.slice(0, -1).map((part) => part.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(parts.at(-1)!.cursor).toBe(cursors.at(-1));
  });

  it('resumed from any cursor gives exactly the parts after it: nothing missed, nothing twice', async () => {
    const { baton, answer } = await open();
    const run = await baton.start(answer, { question: 'Again?' });
    const whole = await collect(run.stream());
    for (let at = 0; at < whole.length - 1; at++) {
      const rest = await collect(run.stream({ after: whole[at]!.cursor }));
      expect(rest).toEqual(whole.slice(at + 1));
    }
  });

  it('gives a reader that joins mid-answer what it missed, then the live tail', async () => {
    const release = gate();
    const tokens = ['Slow', ' and', ' steady', ' wins', '.'];
    const { baton, answer } = await open(
      pacedModel(tokens, async (index) => (index === 2 ? release.promise : undefined)),
    );
    const run = await baton.start(answer, { question: 'Pace?' });
    const early: RunStreamPart[] = [];
    const first = run.stream();
    for await (const part of first) {
      early.push(part);
      if (textOf(early) === 'Slow and') break;
    }
    const late = run.stream({ after: early.at(-1)!.cursor });
    release.open();
    const rest = await collect(late);
    expect(textOf([...early, ...rest])).toBe('Slow and steady wins.');
    expect(await collect(run.stream())).toEqual([...early, ...rest]);
  });

  it('ends a model call cut short by the run finishing with an interrupted part', async () => {
    const never = new Promise<void>(() => {});
    const { baton, answer } = await open(
      pacedModel(['Half', ' an', ' answer'], async (index) => (index === 2 ? never : undefined)),
    );
    const run = await baton.start(answer, { question: 'Cut short?' });
    const seen: RunStreamPart[] = [];
    for await (const part of run.stream()) {
      seen.push(part);
      if (textOf(seen) === 'Half an') break;
    }
    await baton.cancel(run.runId, { reason: 'the user left' });
    const rest = await collect(run.stream({ after: seen.at(-1)!.cursor }));
    const interrupted = rest.find((part) => part.type === 'interrupted');
    expect(interrupted).toMatchObject({ type: 'interrupted', reason: 'the run cancelled' });
    expect(rest.at(-1)).toMatchObject({ type: 'end', status: 'cancelled' });
  });

  it('refuses a cursor of another run, one from the future, and one that is not a cursor', async () => {
    const { baton, answer } = await open();
    const one = await baton.start(answer, { question: 'One' });
    const two = await baton.start(answer, { question: 'Two' });
    const parts = await collect(one.stream());
    await collect(two.stream());
    const last = parts.at(-1)!.cursor;
    await expect(collect(two.stream({ after: last }))).rejects.toMatchObject({
      code: 'STREAM_CURSOR_INVALID',
      reason: 'other-run',
    });
    const [seq, part, tag] = last.split('-');
    await expect(collect(one.stream({ after: `${Number(seq) + 5}-${part}-${tag}` }))).rejects.toMatchObject({
      reason: 'ahead',
    });
    await expect(collect(one.stream({ after: `${seq}-${Number(part) + 1}-${tag}` }))).rejects.toMatchObject({
      reason: 'ahead',
    });
    await expect(collect(one.stream({ after: 'nonsense' }))).rejects.toBeInstanceOf(StreamCursorError);
    expect(baton.streams.stats()).toMatchObject({ readers: 0, waiting: 0 });
  });
});
