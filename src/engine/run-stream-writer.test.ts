import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { RunStreamWriter } from './run-stream-writer.ts';

describe('RunStreamWriter', () => {
  const store = SqliteStore.open({ path: ':memory:' });
  afterAll(async () => {
    await store.close();
  });

  it('writes the parts waiting for the write interval at once when flushed', async () => {
    // An interval no test waits out: the flush must not wait for it.
    const writer = new RunStreamWriter(store.runStreams, {
      minWriteIntervalMs: 600_000,
      clock: () => 0,
      log: () => {},
    });
    writer.write({ runId: 'run_a', type: 'progress', data: { n: 1 }, at: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the first part goes out at once
    writer.write({ runId: 'run_a', type: 'progress', data: { n: 2 }, at: 0 });
    const flushed = await Promise.race([
      writer.flush().then(() => 'flushed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000)),
    ]);
    expect(flushed).toBe('flushed');
    const parts = await store.runStreams.readParts('run_a', 0, 10);
    expect(parts.map((part) => part.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });
});
