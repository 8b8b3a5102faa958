import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { BatonError } from '../src/errors.ts';
import { defineWorkflow } from '../src/engine/workflow.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { SQLITE_SCHEMA_VERSION } from '../src/store/sqlite/sqlite-migrations.ts';
import { harnessesClosedAfterEach } from './support/harness.ts';

const { start } = harnessesClosedAfterEach();

describe('bad input is refused before anything is journaled', () => {
  it('an unknown workflow name, listing the registered ones', async () => {
    const known = defineWorkflow('known', async () => 'ok');
    const h = await start({ workflows: [known] });
    await expect(h.baton.start('unknown', null)).rejects.toMatchObject({
      code: 'UNKNOWN_WORKFLOW',
      message: `No workflow named 'unknown' is registered. Registered: known.`,
    });
    expect(await h.store.listRuns()).toEqual([]);
  });

  it.each([
    [{ at: new Date(0) }, '$.at', 'a Date is not plain data; use toISOString()'],
    [{ items: [1, undefined] }, '$.items[1]', 'undefined has no JSON form'],
    [{ amount: 10n }, '$.amount', 'a bigint has no JSON form; use a string'],
    [{ ratio: Number.NaN }, '$.ratio', 'NaN is not a finite number'],
    [{ tags: new Set(['a']) }, '$.tags', 'a Set is not plain data; use an array or plain object'],
    [{ 'odd key': { fn: () => 1 } }, '$["odd key"].fn', 'a function cannot be stored'],
  ])('an input that is not JSON (%#), naming the path', async (input, path, reason) => {
    const flow = defineWorkflow('takes-input', async () => 'ok');
    const h = await start({ workflows: [flow] });
    const error = await h.baton.start(flow, input).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(BatonError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'NOT_SERIALIZABLE',
      path,
      message: `The input of workflow 'takes-input' is not JSON-serialisable at ${path}: ${reason}.`,
    });
    expect(await h.store.listRuns()).toEqual([]);
  });

  it('an input with a cycle, naming where', async () => {
    const flow = defineWorkflow('cyclic', async () => 'ok');
    const h = await start({ workflows: [flow] });
    const input: { self?: unknown; list: unknown[] } = { list: [] };
    input.list.push(input);
    await expect(h.baton.start(flow, input)).rejects.toMatchObject({
      code: 'NOT_SERIALIZABLE',
      path: '$.list[0]',
    });
  });

  it('an input over maxPayloadBytes', async () => {
    const flow = defineWorkflow('big-input', async () => 'ok');
    const h = await start({ workflows: [flow], maxPayloadBytes: 1000 });
    await expect(h.baton.start(flow, { blob: 'x'.repeat(2000) })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining(
        `The input of workflow 'big-input' is 2011 bytes, over the limit of 1000 bytes`,
      ),
    });
    expect(await h.store.listRuns()).toEqual([]);
  });

  it('a signal payload over maxPayloadBytes', async () => {
    const flow = defineWorkflow('big-signal', async (ctx) => ctx.waitFor('data'));
    const h = await start({ workflows: [flow], maxPayloadBytes: 1000 });
    const run = await h.baton.start(flow, null);
    await expect(h.baton.signal(run.runId, 'data', 'y'.repeat(5000))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(await h.store.pendingSignals(run.runId)).toEqual([]);
  });
});

describe('bad values produced by a run fail it clearly', () => {
  function lastEvent(events: readonly JournalEvent[], type: string): JournalEvent | undefined {
    return events.filter((event) => event.type === type).at(-1);
  }

  it('a step result that is not JSON fails the step at once, naming the step and the path', async () => {
    let attempts = 0;
    const flow = defineWorkflow('bad-step', async (ctx) =>
      ctx.step('load', () => {
        attempts++;
        return { user: { createdAt: new Date(0) } };
      }),
    );
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    const failed = await h.settle(run.runId, 'failed');
    expect(attempts).toBe(1);
    expect(failed.error?.message).toBe(
      `Step 'load' failed after 1 attempt(s): NotSerializableError: The result of step 'load' is not JSON-serialisable ` +
        `at $.user.createdAt: a Date is not plain data; use toISOString().`,
    );
    const stepFailed = lastEvent(await run.history(), 'step.failed') as JournalEvent<'step.failed'>;
    expect(stepFailed.payload.error.code).toBe('NOT_SERIALIZABLE');
  });

  it('a step result over maxPayloadBytes fails the step', async () => {
    const flow = defineWorkflow('big-step', async (ctx) => ctx.step('fetch', () => 'z'.repeat(4000)));
    const h = await start({ workflows: [flow], maxPayloadBytes: 1000 });
    const run = await h.baton.start(flow, null);
    const failed = await h.settle(run.runId, 'failed');
    expect(failed.error?.message).toContain(
      `The result of step 'fetch' is 4002 bytes, over the limit of 1000 bytes`,
    );
    expect(
      (lastEvent(await run.history(), 'step.failed') as JournalEvent<'step.failed'>).payload.attempt,
    ).toBe(1);
  });

  it('a workflow result that is not JSON fails the run, naming the path', async () => {
    const flow = defineWorkflow('bad-result', async () => ({ report: { generated: new Map() } }));
    const h = await start({ workflows: [flow] });
    const run = await h.baton.start(flow, null);
    const failed = await h.settle(run.runId, 'failed');
    expect(failed.error).toMatchObject({ code: 'NOT_SERIALIZABLE' });
    expect(failed.error?.message).toContain('at $.report.generated: a Map is not plain data');
    const events = await run.history();
    expect(events.map((event) => event.type)).toEqual(['run.started', 'run.failed']);
    expect(events.map((event) => event.seq)).toEqual([1, 2]);
  });

  it('a workflow result over maxPayloadBytes fails the run', async () => {
    const flow = defineWorkflow('big-result', async () => 'r'.repeat(4000));
    const h = await start({ workflows: [flow], maxPayloadBytes: 1000 });
    const run = await h.baton.start(flow, null);
    const failed = await h.settle(run.runId, 'failed');
    expect(failed.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(failed.error?.message).toContain('over the limit of 1000 bytes');
  });

  it('a child input that is not JSON rejects ctx.child, naming the path', async () => {
    const child = defineWorkflow('child-of-bad', async () => 'ok');
    const flow = defineWorkflow('bad-child-input', async (ctx) => {
      try {
        await ctx.child(child, { when: new Date(0) });
        return 'unexpected';
      } catch (error) {
        return (error as Error).message;
      }
    });
    const h = await start({ workflows: [flow, child] });
    const run = await h.baton.start(flow, null);
    expect(await run.result()).toBe(
      `The input of child workflow 'child-of-bad' is not JSON-serialisable at $.when: a Date is not plain data; use toISOString().`,
    );
    expect(await h.store.listRuns({ parentRunId: run.runId })).toEqual([]);
  });
});

describe('store files that cannot be used are refused and left untouched', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'baton-bad-store-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  function snapshot(path: string): { main: Buffer; wal: boolean; shm: boolean } {
    return { main: readFileSync(path), wal: existsSync(`${path}-wal`), shm: existsSync(`${path}-shm`) };
  }

  async function refusal(path: string): Promise<unknown> {
    return Baton.open({ store: `sqlite:${path}`, worker: false }).then(
      async (baton) => {
        await baton.close();
        return undefined;
      },
      (error: unknown) => error,
    );
  }

  it('a database written by a newer Baton', async () => {
    const path = join(directory, 'newer.db');
    const store = SqliteStore.open({ path });
    await store.close();
    const db = new DatabaseSync(path);
    db.prepare(`UPDATE baton_meta SET value = ? WHERE key = 'schema_version'`).run(
      String(SQLITE_SCHEMA_VERSION + 7),
    );
    db.close();
    const before = snapshot(path);

    const error = await refusal(path);
    expect(error).toMatchObject({
      code: 'STORE_VERSION',
      message:
        `The store at ${path} has schema version ${SQLITE_SCHEMA_VERSION + 7}, newer than this Baton supports ` +
        `(${SQLITE_SCHEMA_VERSION}). Upgrade Baton; the store was left untouched.`,
    });
    const after = snapshot(path);
    expect(after.main.equals(before.main)).toBe(true);
    expect(after).toEqual(before);
  });

  it('a file that is not a database', async () => {
    const path = join(directory, 'garbage.db');
    const bytes = Buffer.alloc(8192);
    for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 7919) % 251;
    writeFileSync(path, bytes);
    const before = snapshot(path);
    const error = await refusal(path);
    expect(error).toMatchObject({ code: 'STORE_CORRUPT' });
    expect((error as Error).message).toMatch(
      new RegExp(`^The store at ${path} cannot be opened: .+\\. It was left untouched\\.$`),
    );
    expect(snapshot(path)).toEqual(before);
  });

  it('a Baton store whose header was damaged', async () => {
    const path = join(directory, 'damaged.db');
    const store = SqliteStore.open({ path });
    await store.close();
    const bytes = readFileSync(path);
    bytes.write('NOT SQLITE AT ALL', 0, 'latin1');
    writeFileSync(path, bytes);
    const before = snapshot(path);
    expect(await refusal(path)).toMatchObject({ code: 'STORE_CORRUPT' });
    expect(snapshot(path)).toEqual(before);
  });

  it('a SQLite database that is not a Baton store', async () => {
    const path = join(directory, 'other.db');
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    db.exec(`INSERT INTO customers (name) VALUES ('Ada')`);
    db.close();
    const before = snapshot(path);
    const error = await refusal(path);
    expect(error).toMatchObject({
      code: 'STORE_CORRUPT',
      message: `The store at ${path} cannot be opened: it is a SQLite database, but not a Baton store. It was left untouched.`,
    });
    expect(snapshot(path)).toEqual(before);
  });
});
