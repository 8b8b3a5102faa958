import { describe, expect, it } from 'vitest';
import { Baton, type BatonOptions } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { RunStreamPart } from '../src/engine/run-stream-parts.ts';
import { tempStore } from './support/harness.ts';
import { cleanupsAfterEach } from './support/cleanups.ts';

const cleanup = cleanupsAfterEach();

/** A step that writes `count` progress parts at once. */
const chatty = defineWorkflow('chatty', async (ctx, input: { count: number }) => {
  await ctx.step('talk', () => {
    for (let index = 0; index < input.count; index++) ctx.stream.write({ index });
    return input.count;
  });
  return 'done';
});

async function open(streams: BatonOptions['streams']) {
  const { store, dispose } = await tempStore();
  const baton = await Baton.open({
    store,
    workflows: [chatty],
    worker: { pollMs: 10 },
    streams,
    log: () => {},
  });
  cleanup.push(async () => {
    await baton.close();
    await dispose();
  });
  return baton;
}

async function collect(parts: AsyncIterable<RunStreamPart>): Promise<RunStreamPart[]> {
  const out: RunStreamPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

describe('live stream limits', () => {
  it('bounds the parts held in memory: beyond the buffer, parts are dropped and counted', async () => {
    const baton = await open({ maxBufferedParts: 5 });
    const run = await baton.start(chatty, { count: 50 });
    await run.result();
    await baton.streams.flush();
    const parts = await collect(run.stream());
    const ephemeral = parts.filter((part) => part.type !== 'event' && part.type !== 'end');
    // The step's marker and four progress parts fit; the other 46 were dropped, and said so.
    expect(ephemeral.map((part) => part.type)).toEqual([
      'step-started',
      'progress',
      'progress',
      'progress',
      'progress',
      'dropped',
    ]);
    expect(ephemeral.at(-1)).toMatchObject({ type: 'dropped', count: 46 });
  });

  it('prunes parts beyond retention; a reader from before them is told how many it missed', async () => {
    const baton = await open({ maxPartsPerRun: 3 });
    const run = await baton.start(chatty, { count: 10 });
    await run.result();
    await baton.streams.flush();
    expect(await baton.streams.prune()).toBe(8);
    const parts = await collect(run.stream());
    expect(parts[0]).toMatchObject({ type: 'pruned', missed: 8 });
    expect(
      parts.filter((part) => part.type === 'progress').map((part) => (part as { data: unknown }).data),
    ).toEqual([{ index: 7 }, { index: 8 }, { index: 9 }]);
    // Every journal event is still there.
    expect(parts.filter((part) => part.type === 'event')).toHaveLength((await run.history()).length);
  });

  it('bounds the readers a process serves, and frees a place when a reader stops', async () => {
    const baton = await open({ maxReaders: 2 });
    const run = await baton.start(chatty, { count: 1 });
    await run.result();
    const first = run.stream();
    const second = run.stream();
    await first.next();
    await second.next();
    const third = run.stream();
    await expect(third.next()).rejects.toMatchObject({ code: 'TOO_MANY_STREAM_READERS', retryAfterMs: 1000 });
    expect(baton.streams.stats().readers).toBe(2);
    await first.return(undefined);
    expect((await collect(run.stream())).at(-1)).toMatchObject({ type: 'end' });
    await second.return(undefined);
    expect(baton.streams.stats()).toMatchObject({ readers: 0, waiting: 0 });
  });

  it('writes nothing with streams off, and readers still get the journal', async () => {
    const baton = await open({ enabled: false });
    const run = await baton.start(chatty, { count: 3 });
    await run.result();
    const parts = await collect(run.stream());
    expect(parts.every((part) => part.type === 'event' || part.type === 'end')).toBe(true);
    expect(await baton.store.runStreams!.partBounds(run.runId)).toEqual({ first: 0, last: 0 });
  });
});
