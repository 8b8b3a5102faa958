import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const { start } = harnessesClosedAfterEach();

type Progress = { done: number; total: number };

/** Works through `input.items`, publishing its progress after each, then waits for a sign-off. */
const batch = defineWorkflow(
  'batch',
  async (ctx, input: { items: string[] }) => {
    await ctx.setEvent('progress', { done: 0, total: input.items.length } satisfies Progress);
    for (const [index, item] of input.items.entries()) {
      await ctx.step(`item-${item}`, () => item.toUpperCase());
      await ctx.setEvent('progress', { done: index + 1, total: input.items.length } satisfies Progress);
    }
    const signOff = await ctx.waitFor<string>('sign-off');
    await ctx.setEvent('signed-off-by', signOff);
    await ctx.sleep('1h');
    return 'done';
  },
  {
    queries: {
      percent: (values) => {
        const progress = values.progress as Progress | undefined;
        return progress === undefined ? 0 : Math.round((100 * progress.done) / progress.total);
      },
    },
  },
);

function published(events: readonly JournalEvent[]): unknown[] {
  return events
    .filter((event) => event.type === 'event.published')
    .map((event) => (event.payload as { value: unknown }).value);
}

describe('published values', () => {
  it('a parked run answers getEvent and queries from its journal, with no worker running it', async () => {
    const h = await start({ workflows: [batch] });
    const run = await h.baton.start(batch, { items: ['a', 'b', 'c', 'd'] });
    await h.settle(run.runId, 'waiting');
    // A client with no worker, on the same store, reads what the run published.
    const client = await Baton.open({ store: h.store, workflows: [batch], worker: false });
    try {
      expect(await client.getEvent<Progress>(run.runId, 'progress')).toEqual({ done: 4, total: 4 });
      expect(await client.query(run.runId, 'percent')).toBe(100);
      expect((await client.publishedValues(run.runId)).map((entry) => entry.key)).toEqual(['progress']);
      // Not published (yet): undefined, not an error.
      expect(await client.getEvent(run.runId, 'signed-off-by')).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('getEvent with a timeout waits for the value to appear', async () => {
    const h = await start({ workflows: [batch] });
    const run = await h.baton.start(batch, { items: ['a'] });
    await h.settle(run.runId, 'waiting');
    const waiting = h.baton.getEvent<string>(run.runId, 'signed-off-by', { timeout: '30s', pollMs: 10 });
    await h.baton.signal(run.runId, 'sign-off', 'user:bob');
    expect(await waiting).toBe('user:bob');
  });

  it('replay does not publish again: one event per setEvent call', async () => {
    const h = await start({ workflows: [batch] });
    const run = await h.baton.start(batch, { items: ['a', 'b'] });
    await h.settle(run.runId, 'waiting');
    await h.baton.signal(run.runId, 'sign-off', 'user:bob');
    const parked = await h.settle(run.runId, 'waiting', 8);
    // Waking from the sleep replays the whole history.
    await h.advanceUntil(run.runId, 60 * 60 * 1000, 'completed');
    expect(parked.status).toBe('waiting');
    expect(published(await run.history())).toEqual([
      { done: 0, total: 2 },
      { done: 1, total: 2 },
      { done: 2, total: 2 },
      'user:bob',
    ]);
    // A finished run that never published a key answers at once, even with a timeout.
    expect(await h.baton.getEvent(run.runId, 'never', { timeout: '1m' })).toBeUndefined();
  });

  it('refuses a bad key and a value over the payload limit before anything is journaled', async () => {
    const oversized = defineWorkflow('oversized', async (ctx) => {
      const errors: string[] = [];
      for (const [key, value] of [
        ['', 1],
        ['k'.repeat(257), 1],
        ['big', 'x'.repeat(2000)],
      ] as const) {
        try {
          await ctx.setEvent(key, value);
        } catch (error) {
          errors.push((error as { code: string }).code);
        }
      }
      return errors;
    });
    const h = await start({ workflows: [oversized], maxPayloadBytes: 1000 });
    const run = await h.baton.start(oversized, null);
    expect(await run.result()).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE']);
    expect(published(await run.history())).toEqual([]);
    await expect(h.baton.getEvent(run.runId, '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(h.baton.query(run.runId, 'percent')).rejects.toMatchObject({ code: 'UNKNOWN_QUERY' });
  });

  it('an unknown query names the ones the workflow declares', async () => {
    const h = await start({ workflows: [batch], worker: false });
    const run = await h.baton.start(batch, { items: [] });
    await expect(h.baton.query(run.runId, 'percnt')).rejects.toMatchObject({
      code: 'UNKNOWN_QUERY',
      message: expect.stringContaining("Did you mean 'percent'?"),
    });
  });
});

describe('published values over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ workflows: [batch] });
  });
  afterAll(async () => server.close());

  it('reads a value, all values and a query; a key not published is 404', async () => {
    const run = await server.baton.start(batch, { items: ['a', 'b'] }, { as: 'user:alice', tenant: 'acme' });
    const value = await server.call(`/api/runs/${run.runId}/events/progress?timeout=20s`);
    expect(value.status).toBe(200);
    expect(await value.json()).toMatchObject({ key: 'progress', value: { total: 2 } });
    const missing = await server.call(`/api/runs/${run.runId}/events/nothing`);
    expect(missing.status).toBe(404);
    const all = (await (await server.call(`/api/runs/${run.runId}/events`)).json()) as {
      values: { key: string }[];
    };
    expect(all.values.map((entry) => entry.key)).toEqual(['progress']);
    const query = await server.call(`/api/runs/${run.runId}/queries/percent`);
    expect(query.status).toBe(200);
    expect(((await query.json()) as { query: string }).query).toBe('percent');
    const unknown = await server.call(`/api/runs/${run.runId}/queries/nope`);
    expect(unknown.status).toBe(404);
    // Another tenant does not see the run.
    const other = await server.call(`/api/runs/${run.runId}/events/progress`, { as: 'mallory' });
    expect(other.status).toBe(404);
  });
});
