import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../src/journal/events.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { spawnNode, type ChildExit } from './support/child-process.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

// A scripted agent in a real process, SIGKILLed by its own model between two turns; a second
// process resumes the run. The scripted model must answer the resumed conversation with the turn
// after the last one journaled, not start its script again (which would ask for 'alpha' twice).

const child = fileURLToPath(new URL('./fixtures/scripted-kill-child.ts', import.meta.url));
const cleanup = cleanupsAfterAll();

function runChild(args: string[], kill: boolean): Promise<ChildExit> {
  return spawnNode([child, ...args], { env: { ...process.env, BATON_KILL_CHILD: kill ? '1' : '0' } }).exited;
}

describe('a scripted agent killed mid-conversation', () => {
  it('resumes in another process at the next turn, without repeating a tool request', async () => {
    const dir = await cleanup.directory('baton-scripted-kill-');
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
