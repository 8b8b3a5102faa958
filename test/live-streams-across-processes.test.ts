import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agent } from '../src/agents/agent.ts';
import { workflow } from '../src/context-layers.ts';
import { Baton } from '../src/baton.ts';
import { serve } from '../src/server/node.ts';
import { createServer } from '../src/server/server.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { narrateWorkflow, TOKENS } from './fixtures/live-stream-workflows.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';
import { NODE } from './support/pinned-node.ts';
import { createTestDatabase, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

// A worker in another process streams a model's answer; this process serves it over HTTP and reads
// it as an HTTP client would: disconnecting and resuming mid-answer, through a SIGKILL of the
// worker mid-answer (the stream says `interrupted`) and a second worker that resumes the run.

const FIXTURE = resolve(import.meta.dirname, 'fixtures/live-stream-worker.ts');
const ROOT = resolve(import.meta.dirname, '..');
const TOKEN = 'reader-token-0123456789abcdef';
const cleanup = cleanupsAfterAll();

type Frame = { id?: string; part: any };

function startWorker(where: string, mode: 'hang' | 'finish'): Promise<ChildProcess> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', FIXTURE, where, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A liveness guard, not a timing check: a child that hangs is killed and the test fails.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.on('exit', () => clearTimeout(guard));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolvePromise(child);
    });
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${stderr}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise) => {
    child.on('exit', () => resolvePromise());
    child.kill('SIGKILL');
  });
}

/** Reads the live stream over HTTP until `until` holds for the frames read so far, then disconnects. */
async function read(
  url: string,
  after: string | undefined,
  until: (frames: Frame[]) => boolean,
): Promise<Frame[]> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${TOKEN}`, ...(after ? { 'last-event-id': after } : {}) },
  });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const frames: Frame[] = [];
  let buffer = '';
  outer: while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, boundary).split('\n');
      buffer = buffer.slice(boundary + 2);
      const data = lines.find((line) => line.startsWith('data: '));
      if (!data) continue;
      const id = lines.find((line) => line.startsWith('id: '))?.slice(4);
      frames.push({ ...(id ? { id } : {}), part: JSON.parse(data.slice(6)) });
      if (until(frames)) break outer;
    }
  }
  await reader.cancel();
  return frames;
}

const textOf = (frames: readonly Frame[]): string =>
  frames.map((frame) => (frame.part.type === 'text-delta' ? frame.part.delta : '')).join('');
const lastId = (frames: readonly Frame[]): string | undefined =>
  frames.filter((frame) => frame.id).at(-1)?.id;
const kept = (frames: readonly Frame[]): Frame[] => frames.filter((frame) => frame.part.type !== 'waiting');

async function scenario(where: string, openStore: () => Promise<Store>): Promise<void> {
  const store = await openStore();
  const baton = await Baton.open({
    store,
    workflows: [narrateWorkflow({ agent, workflow }, 'finish')],
    worker: false,
    log: () => {},
  });
  const server = await createServer(baton, {
    auth: { tokens: { [TOKEN]: { principal: 'user:reader', tenant: 'default' } } },
    log: () => {},
  });
  const running = await serve(server, { port: 0 });
  cleanup.push(async () => {
    await running.close();
    await baton.close();
    await store.close();
  });
  const run = await baton.start('narrate', { topic: 'streams' });
  const url = `${running.url}/api/runs/${run.runId}/live`;

  const first = await startWorker(where, 'hang');
  cleanup.push(async () => void first.kill('SIGKILL'));
  // Mid-answer: two tokens, disconnect, resume after the last id up to the third (the last the
  // hanging model sends).
  const early = await read(url, undefined, (frames) => textOf(frames) === 'Once upon');
  const middle = await read(url, lastId(early), (frames) => textOf([...early, ...frames]) === 'Once upon a');
  await killed(first);
  const cut = await read(url, lastId(middle), (frames) =>
    frames.some((frame) => frame.part.type === 'interrupted'),
  );
  const second = await startWorker(where, 'finish');
  cleanup.push(async () => void second.kill('SIGKILL'));
  const rest = await read(url, lastId(cut), (frames) => frames.some((frame) => frame.part.type === 'end'));

  const pieces = [...early, ...middle, ...cut, ...rest];
  const whole = await read(url, undefined, (frames) => frames.some((frame) => frame.part.type === 'end'));
  expect(kept(pieces)).toEqual(kept(whole));
  const interrupted = whole.findIndex((frame) => frame.part.type === 'interrupted');
  expect(textOf(whole.slice(0, interrupted))).toBe('Once upon a');
  expect(whole[interrupted]!.part).toMatchObject({
    type: 'interrupted',
    reason: expect.stringContaining('lease'),
  });
  const after = whole.slice(interrupted + 1);
  expect(
    after.find((frame) => frame.part.type.startsWith('model') || frame.part.type === 'text-delta')!.part.type,
  ).toBe('model-start');
  expect(textOf(after)).toBe(TOKENS.join(''));
  expect(whole.at(-1)!.part).toMatchObject({ type: 'end', status: 'completed' });
  expect(await baton.result(run.runId)).toBe(TOKENS.join(''));
}

describe('a run stream across processes', () => {
  it('on SQLite: tokens from a worker process reach an HTTP client, through a reconnect and a SIGKILL', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-live-'));
    cleanup.push(() => rm(directory, { recursive: true, force: true }));
    const path = join(directory, 'baton.db');
    await scenario(`sqlite:${path}`, async () => SqliteStore.open({ path }));
  });
});

const unavailable = await postgresUnavailable();
describePostgres('a run stream across processes on PostgreSQL', unavailable, () => {
  it('tokens from a worker process reach an HTTP client, through a reconnect and a SIGKILL', async () => {
    const database = await createTestDatabase();
    cleanup.push(() => database.drop());
    await scenario(`postgres:${database.url}#live`, () =>
      PostgresStore.open({ url: database.url, schema: 'live', poolSize: 4 }),
    );
  });
});
