import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { Baton } from '../../src/index.ts';
import { NODE } from '../support/pinned-node.ts';
import { crashGraphWorkflow } from './fixtures/crash-graph.ts';
import { ofType } from './harness.ts';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

it('a graph killed mid-run resumes in another process with its journaled decisions, re-running only the node in flight', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'baton-graph-kill-'));
  directories.push(directory);
  const store = join(directory, 'baton.db');
  const log = join(directory, 'log.txt');
  const lines = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

  // No --conditions=source: the fixture imports src/ by relative path, and that condition would also
  // send dependencies that publish a `source` export to their TypeScript (see resume-after-kill).
  const child = spawn(
    NODE,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 'fixtures/crash-graph-child.ts'),
      store,
      log,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let runId = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (runId += chunk));
  const exited = once(child, 'exit');
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    while (!lines().includes('slow:first')) {
      if (gone)
        throw new Error(
          `the first process exited before the graph reached 'slow' (log: ${lines().join(', ')})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  runId = runId.trim();
  expect(runId).toMatch(/^run_/);

  const definition = crashGraphWorkflow('second', log);
  const baton = await Baton.open({
    store: `sqlite:${store}`,
    workflows: [definition],
    worker: { pollMs: 20 },
  });
  try {
    // The second process's conditions would choose square over double: the result shows the journaled choice.
    expect(await baton.result(runId, { timeout: '30s' })).toEqual({
      outputs: { fetch: 2, double: 4, slow: 'slow done', join: 'double+slow' },
      skipped: ['square'],
    });
    // Completed steps and decided conditions ran once, in the first process; only the step in flight ran again.
    expect(lines()).toEqual([
      'fetch',
      'when:double',
      'when:square',
      'double',
      'slow:first',
      'slow:second',
      'join',
    ]);
    const history = await baton.handle(runId).history();
    expect(ofType(history, 'graph.node.skipped').map((event) => event.payload)).toEqual([
      expect.objectContaining({ node: 'square', reason: 'its condition was false' }),
    ]);
    expect(
      ofType(history, 'graph.node.started').map((event) => (event.payload as { node: string }).node),
    ).toEqual(['fetch', 'double', 'slow', 'join']);
  } finally {
    await baton.close();
  }
});
