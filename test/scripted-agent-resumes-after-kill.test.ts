import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../src/journal/events.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { NODE } from './support/pinned-node.ts';

// A scripted agent in a real process, SIGKILLed by its own model between two turns; a second
// process resumes the run. The scripted model must answer the resumed conversation with the turn
// after the last one journaled, not start its script again (which would ask for 'alpha' twice).

const child = fileURLToPath(new URL('./fixtures/scripted-kill-child.ts', import.meta.url));
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function runChild(args: string[], kill: boolean) {
  const proc = spawn(NODE, ['--disable-warning=ExperimentalWarning', child, ...args], {
    env: { ...process.env, BATON_KILL_CHILD: kill ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A liveness guard, not a timing check: a child that hangs is killed and the test fails.
  const guard = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) =>
      proc.on('exit', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, stdout, stderr });
      }),
  );
}

describe('a scripted agent killed mid-conversation', () => {
  it('resumes in another process at the next turn, without repeating a tool request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-scripted-kill-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'baton.db');

    const first = await runChild([dbPath, dir], true);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'lookups.log'), 'utf8')).toBe('alpha\n');

    const second = await runChild([dbPath, dir], false);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('result "Looked up beta."');

    // Each word was looked up once, and the model asked for each once.
    expect(readFileSync(join(dir, 'lookups.log'), 'utf8')).toBe('alpha\nbeta\n');
    const store = SqliteStore.open({ path: dbPath });
    cleanup.push(() => store.close());
    const [run] = await store.listRuns({ workflow: 'define' });
    const events: JournalEvent[] = await store.readEvents(run!.runId);
    const requested = events
      .filter((event) => event.type === 'tool.requested')
      .map((event) => (event.payload as { args?: { word?: string } }).args?.word);
    expect(requested).toEqual(['alpha', 'beta']);
    expect(events.filter((event) => event.type === 'llm.called')).toHaveLength(3);
  });
});
