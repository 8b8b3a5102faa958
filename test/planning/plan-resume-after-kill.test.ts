import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Baton } from '../../src/index.ts';
import { killWhenLogged, logLines } from '../support/child-process.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { ofType } from '../support/journal-events.ts';
import { crashWorkflows } from './fixtures/crash-plan.ts';

const cleanups = cleanupsAfterEach();

/** Runs the fixture in a real process until `until` is logged, SIGKILLs it, and returns the run id and paths. */
async function killWhen(kind: 'planned' | 'loop', until: string) {
  const directory = await cleanups.directory('baton-plan-kill-');
  const store = join(directory, 'baton.db');
  const log = join(directory, 'log.txt');
  const lines = (): string[] => logLines(log);
  const child = join(import.meta.dirname, 'fixtures/crash-plan-child.ts');
  const runId = (await killWhenLogged([child, store, log, kind], log, until)).stdout;
  expect(runId.trim()).toMatch(/^run_/);
  const workflows = crashWorkflows('second', log);
  const baton = await Baton.open({
    store: `sqlite:${store}`,
    workflows: [workflows.planned, workflows.loop],
    worker: { pollMs: 20 },
  });
  return { runId: runId.trim(), baton, lines };
}

it('a re-planned plan killed mid-task resumes in another process: no planner call, no finished task again', async () => {
  const { runId, baton, lines } = await killWhen('planned', 'slow:first');
  try {
    // The second process's planner would plan something else: the result shows the journaled plans.
    expect(await baton.result(runId, { timeout: '30s' })).toMatchObject({
      outputs: { fetch: 'fetch', slow: 'slow', report: 'report' },
      revision: 1,
    });
    expect(lines()).toEqual([
      'plan:0:first',
      expect.stringMatching(/^(fetch|flaky):first$/),
      expect.stringMatching(/^(fetch|flaky):first$/),
      'plan:1:first',
      'slow:first',
      'slow:second',
      'report:second',
    ]);
    const history = await baton.handle(runId).history();
    expect(
      ofType(history, 'plan.decided').map((event) => (event.payload as { kept: string[] }).kept),
    ).toEqual([[], ['fetch']]);
    expect(ofType(history, 'plan.completed')).toHaveLength(1);
  } finally {
    await baton.close();
  }
});

it('a review loop killed mid-review resumes in another process, taking the journaled edges', async () => {
  const { runId, baton, lines } = await killWhen('loop', 'review:2:first');
  try {
    // Evaluated again, the second side's condition would end the loop at once; the journaled edge stands.
    expect(await baton.result(runId, { timeout: '30s' })).toMatchObject({
      final: 'done',
      path: ['draft', 'review', 'revise', 'review', 'done'],
      edges: { 'draft→review': 1, 'review→revise': 1, 'revise→review': 1, 'review→done': 1 },
    });
    expect(lines()).toEqual([
      'draft:first',
      'review:1:first',
      'when:1:first',
      'revise:1:first',
      'review:2:first',
      'review:2:second',
      'when:2:second',
    ]);
  } finally {
    await baton.close();
  }
});
