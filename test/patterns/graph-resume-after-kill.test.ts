import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Baton } from '../../src/index.ts';
import { killWhenLogged, logLines } from '../support/child-process.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { crashGraphWorkflow } from './fixtures/crash-graph.ts';
import { ofType } from '../support/journal-events.ts';

const cleanups = cleanupsAfterEach();

it('a graph killed mid-run resumes in another process with its journaled decisions, re-running only the node in flight', async () => {
  const directory = await cleanups.directory('baton-graph-kill-');
  const store = join(directory, 'baton.db');
  const log = join(directory, 'log.txt');
  const lines = (): string[] => logLines(log);

  // No --conditions=source: the fixture imports src/ by relative path, and that condition would also
  // send dependencies that publish a `source` export to their TypeScript (see resume-after-kill).
  const child = join(import.meta.dirname, 'fixtures/crash-graph-child.ts');
  const runId = (await killWhenLogged([child, store, log], log, 'slow:first')).stdout.trim();
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
