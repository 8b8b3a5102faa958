import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

const source = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

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

let project: string;
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'baton-graph-cli-'));
  writeFileSync(join(project, 'baton.config.ts'), CONFIG);
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd: project,
    env: {},
  });
  return { code, stdout, stderr };
}

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
