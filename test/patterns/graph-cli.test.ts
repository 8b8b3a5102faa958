import { describe, expect, it } from 'vitest';
import { batonSource as source, cliProject } from '../support/cli-project.ts';

const CONFIG = `
import { defineConfig, graph, graphWorkflow, workflow } from ${JSON.stringify(source)};

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

export default defineConfig({ store: 'sqlite:./graph-cli.db', workflows: [graphWorkflow(research), plain] });
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
