import { describe, expect, it } from 'vitest';
import { batonSource as source, cliProject } from '../support/cli-project.ts';

const CONFIG = `
import { defineConfig, graph, graphWorkflow, machine, machineWorkflow, parallel, plan, planWorkflow, route, workflow } from ${JSON.stringify(source)};

const research = graph('research', {
  description: 'Answers a question',
  nodes: {
    plan: { run: async () => 'plan' },
    web: { deps: ['plan'], run: async () => 'web' },
    math: { deps: ['plan'], when: () => true, run: async () => 'math' },
    write: { deps: ['web', 'math'], optionalDeps: ['math'], run: async () => 'write' },
  },
});
const plain = workflow('plain', async () => 'plain');
const review = machine('review', {
  initial: 'draft',
  states: {
    draft: { next: 'review' },
    review: { run: (_ctx, { visit }) => visit, next: [{ to: 'done', when: (visit) => visit >= 2 }, { to: 'draft', max: 3 }] },
    done: {},
  },
});
const planned = plan('planned', {
  planner: () => ({ tasks: [{ id: 'a', description: 'A', worker: 'echo' }, { id: 'b', description: 'B', worker: 'echo', deps: ['a'] }] }),
  workers: { echo: { description: 'Echoes', run: (_ctx, request) => request.id } },
});
const triage = workflow('triage', async (ctx, ticket) =>
  route(ctx, {
    name: 'triage',
    input: ticket,
    classify: (text) => ({ route: text.includes('refund') ? 'billing' : 'tech', reason: 'it mentions a refund', scores: { billing: 0.9, tech: 0.1 } }),
    routes: { billing: async () => 'billing', tech: async () => 'tech' },
  }),
);
const fanout = workflow('fanout', async (ctx) => {
  const outcome = await parallel(
    ctx,
    { web: (branch) => branch.step('web', () => 'W'), papers: (branch) => branch.step('papers', () => 'P') },
    { name: 'research' },
  );
  return outcome.succeeded;
});

export default defineConfig({
  store: 'sqlite:./graph-cli.db',
  workflows: [graphWorkflow(research), plain, machineWorkflow(review), planWorkflow(planned), triage, fanout],
});
`;

const { cli } = cliProject('baton-graph-cli-', { 'baton.config.ts': CONFIG });

describe('baton graph', () => {
  it('prints the levels and edges of a graph workflow', async () => {
    const result = await cli(['graph', 'research']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'graph research (4 nodes, 4 edges)',
        '  Answers a question',
        'levels',
        '   0  plan',
        '   1  web  math?',
        '   2  write',
        'edges',
        '  plan → web',
        '  plan → math',
        '  web → write',
        '  math --> write',
        '(? runs only when its condition holds; --> the dependent runs even when that dependency is skipped)',
        '',
      ].join('\n'),
    );
  });

  it('prints the structure as JSON', async () => {
    const result = await cli(['graph', 'research', '--json']);
    expect(result.code).toBe(0);
    const described = JSON.parse(result.stdout);
    expect(described.levels).toEqual([['plan'], ['web', 'math'], ['write']]);
    expect(described.edges).toContainEqual({ from: 'math', to: 'write', optional: true });
    expect(described.nodes.find((node: { id: string }) => node.id === 'math').conditional).toBe(true);
  });

  it('prints a state machine with its bounds and cycles', async () => {
    const result = await cli(['graph', 'review']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      [
        'machine review (3 states, 3 edges), starts in draft',
        'edges',
        '  draft → review',
        '  review → done?',
        '  review → draft  (at most 3)',
        'final: done',
        'cycles',
        '  draft → review → draft: review → draft at most 3',
        '',
      ].join('\n'),
    );
  });

  it("prints the plans a run made and the edges its machines took, given the run's id", async () => {
    const started = await cli(['start', 'planned', '--input', '{"goal":"a then b"}', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
    const result = await cli(['graph', runId]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('plan planned (completed) planned by code:planner');
    expect(result.stdout).toContain('    0  ✓ a → echo');
    expect(result.stdout).toContain('    1  ✓ b → echo');

    const loop = await cli(['start', 'review', '--json']);
    const loopId = (JSON.parse(loop.stdout) as { runId: string }).runId;
    const taken = await cli(['graph', loopId]);
    expect(taken.stdout).toContain('machine review (completed in done), 5 step(s)');
    expect(taken.stdout).toContain('  review → draft  taken 1 of at most 3');
  });

  it("draws a run's route with its candidates and condition, and its parallel branches and join", async () => {
    const routed = await cli(['start', 'triage', '--input', '"please refund"', '--json']);
    expect(routed.code, routed.stderr).toBe(0);
    const routeRun = (JSON.parse(routed.stdout) as { runId: string }).runId;
    const route = await cli(['graph', routeRun]);
    expect(route.stderr).toBe('');
    expect(route.stdout).toBe(
      [
        'route triage',
        '  ✓ triage · function',
        '    → billing  [it mentions a refund · score 0.9]',
        '    - tech  [score 0.1]',
        '',
      ].join('\n'),
    );

    const forked = await cli(['start', 'fanout', '--json']);
    expect(forked.code, forked.stderr).toBe(0);
    const forkRun = (JSON.parse(forked.stdout) as { runId: string }).runId;
    const fork = await cli(['graph', forkRun]);
    expect(fork.stdout).toMatch(/^parallel research: partial failure policy: fail · /);
    expect(fork.stdout).toContain(
      '  ✓ research · fork\n    ✓ web  [succeeded]\n    ✓ papers  [succeeded]\n    ✓ research · join\n',
    );
    const json = JSON.parse((await cli(['graph', forkRun, '--json'])).stdout);
    expect(json.plans).toEqual([]);
    expect(
      json.patterns.map((graph: { pattern: string; name: string }) => [graph.pattern, graph.name]),
    ).toEqual([['parallel', 'research']]);
  });

  it('says which workflows are graphs when asked for one that is not', async () => {
    const plain = await cli(['graph', 'plain']);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain(
      "Workflow 'plain' is not a graph workflow (made with graphWorkflow(graph)), so it has no DAG to print. Graph workflows: research.",
    );
    const unknown = await cli(['graph', 'nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("No workflow named 'nope'");
  });
});
