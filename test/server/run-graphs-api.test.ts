import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError, parallel, route, sequential, workflow } from '../../src/index.ts';
import type { GraphState } from '../../src/journal/run-model/run-graphs.ts';
import { until } from '../support/harness.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

type Json = Record<string, any>;

/** A router choosing by a condition, with scores for both candidates. */
const triage = workflow('triage', async (ctx, ticket: string) =>
  route(ctx, {
    name: 'triage',
    input: ticket,
    classify: (text) => ({
      route: text.includes('refund') ? 'billing' : 'tech',
      reason: 'it mentions a refund',
      scores: { billing: 0.9, tech: 0.1 },
    }),
    routes: {
      billing: async (_ctx, text: string) => `billing: ${text}`,
      tech: async (_ctx, text: string) => `tech: ${text}`,
    },
  }),
);

/** A router whose answer names no route and has no fallback. */
const nowhere = workflow('nowhere', async (ctx) =>
  route(ctx, {
    name: 'desk',
    input: 'I want to buy',
    classify: () => 'sales',
    routes: { billing: async () => 'billing', tech: async () => 'tech' },
  }),
);

/** Three branches, one failing, joined under a policy that lets two succeed. */
const research = workflow('research', async (ctx) => {
  const outcome = await parallel(
    ctx,
    {
      web: (branch) => branch.step('web', () => 'W'),
      papers: (branch) => branch.step('papers', () => 'P'),
      archive: (branch) =>
        branch.step('archive', () => {
          throw new NonRetryableError('archive offline');
        }),
    },
    { name: 'fanout', onPartialFailure: { minSuccesses: 2 } },
  );
  return outcome.succeeded.length;
});

/** Three stages in a chain. */
const article = workflow('article', async (ctx) =>
  sequential(
    ctx,
    [
      { name: 'outline', run: async (inner) => inner.step('outline', () => 'o') },
      { name: 'draft', run: async (inner, text: string) => inner.step('draft', () => `${text}d`) },
      { name: 'polish', run: async (_inner, text: string) => `${text}p` },
    ],
    null,
    { name: 'article' },
  ),
);

let server: TestServer;

async function call(path: string, init: Parameters<TestServer['call']>[1] = {}) {
  return (await (await server.call(path, init)).json()) as Json;
}

async function finished(name: string, input?: unknown): Promise<string> {
  const started = await call('/api/runs', {
    method: 'POST',
    json: { workflow: name, ...(input === undefined ? {} : { input }) },
  });
  const runId = started.run.runId as string;
  await until(
    async () => ((await call(`/api/runs/${runId}`)).run.status === 'running' ? undefined : true),
    `the ${name} run to finish`,
  );
  return runId;
}

async function graphsOf(runId: string): Promise<GraphState[]> {
  const response = await server.call(`/api/runs/${runId}/graph`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { graphs: GraphState[] }).graphs;
}

describe('GET /api/runs/{id}/graph for patterns', () => {
  beforeAll(async () => {
    server = await startTestServer({ workflows: [triage, nowhere, research, article] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('draws a route: the router, every candidate, the chosen one marked and the reason on its edge', async () => {
    const runId = await finished('triage', 'please refund my order');
    const journal = (await call(`/api/runs/${runId}/journal`)).events as Json[];
    const decided = journal.find((event) => event.type === 'route.decided')!;
    const [graph, ...more] = await graphsOf(runId);
    expect(more).toEqual([]);
    expect(graph).toEqual({
      name: 'triage',
      title: 'route triage',
      pattern: 'route',
      nodes: [
        { id: 'triage', deps: [], state: 'completed', seq: decided.seq, label: 'triage · function' },
        { id: 'triage/billing', deps: ['triage'], state: 'chosen', seq: decided.seq, label: 'billing' },
        { id: 'triage/tech', deps: ['triage'], state: 'skipped', label: 'tech' },
      ],
      edges: [
        { from: 'triage', to: 'triage/billing', label: 'it mentions a refund · score 0.9' },
        { from: 'triage', to: 'triage/tech', label: 'score 0.1' },
      ],
    });
  });

  it('draws a route that chose nothing: the router failed, every candidate skipped, the reason as its note', async () => {
    const runId = await finished('nowhere');
    const [graph] = await graphsOf(runId);
    expect(graph!.nodes.map((node) => [node.id, node.state])).toEqual([
      ['desk', 'failed'],
      ['desk/billing', 'skipped'],
      ['desk/tech', 'skipped'],
    ]);
    expect(graph!.note).toBe('no route chosen: the classifier answered "sales", which names no route');
  });

  it('draws a parallel fan-out: a fork, each branch with how it ended, and the join with the verdict', async () => {
    const runId = await finished('research');
    const journal = (await call(`/api/runs/${runId}/journal`)).events as Json[];
    const failedBranch = journal.find((event) => event.type === 'parallel.branch.failed')!;
    const [graph] = await graphsOf(runId);
    expect(graph!.pattern).toBe('parallel');
    const states = Object.fromEntries(graph!.nodes.map((node) => [node.id, node.state]));
    expect(states).toEqual({
      fanout: 'completed',
      'fanout/web': 'completed',
      'fanout/papers': 'completed',
      'fanout/archive': 'failed',
      'fanout:join': 'completed',
    });
    expect(graph!.nodes.find((node) => node.id === 'fanout/archive')!.seq).toBe(failedBranch.seq);
    expect(graph!.edges).toEqual(
      expect.arrayContaining([
        { from: 'fanout', to: 'fanout/archive', label: '' },
        { from: 'fanout/web', to: 'fanout:join', label: 'succeeded' },
        { from: 'fanout/archive', to: 'fanout:join', label: 'failed' },
      ]),
    );
    expect(graph!.note).toMatch(/^partial failure policy: at least 2 must succeed · /);
  });

  it('draws a sequence as a chain of its stages', async () => {
    const runId = await finished('article');
    const [graph] = await graphsOf(runId);
    expect(graph!.nodes.map((node) => [node.id, node.state, node.deps])).toEqual([
      ['article/outline', 'completed', []],
      ['article/draft', 'completed', ['article/outline']],
      ['article/polish', 'completed', ['article/draft']],
    ]);
    expect(graph!.edges).toEqual([
      { from: 'article/outline', to: 'article/draft', label: 'then' },
      { from: 'article/draft', to: 'article/polish', label: 'then' },
    ]);
  });

  it('answers 404 for a run that does not exist', async () => {
    const response = await server.call('/api/runs/run_missing/graph');
    expect(response.status).toBe(404);
  });
});
