import { describe, expect, it } from 'vitest';
import { formatGraph } from './graph-format.ts';
import { graph, graphOf, graphWorkflow } from './graph.ts';
import { GraphDefinitionError } from './pattern-errors.ts';

const run = async (): Promise<string> => 'done';

function definitionError(define: () => unknown): GraphDefinitionError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphDefinitionError);
    return error as GraphDefinitionError;
  }
  throw new Error('expected a GraphDefinitionError');
}

describe('graph definition checks', () => {
  it('names the path of a cycle', () => {
    const error = definitionError(() =>
      graph('loop', {
        nodes: {
          start: { run },
          a: { deps: ['start', 'c'], run },
          b: { deps: ['a'], run },
          c: { deps: ['b'], run },
        },
      }),
    );
    expect(error.code).toBe('GRAPH_DEFINITION');
    expect(error.problems).toHaveLength(1);
    const cycle = error.problems[0]!;
    // The same cycle, whichever node the search met first: each arrow points from a dependency to its dependent.
    expect(['cycle: a → b → c → a', 'cycle: b → c → a → b', 'cycle: c → a → b → c']).toContain(cycle);
    expect(error.message).toContain(cycle);
  });

  it('names a node that depends on itself', () => {
    const error = definitionError(() => graph('self', { nodes: { a: { deps: ['a'], run } } }));
    expect(error.problems).toEqual(['cycle: a → a']);
  });

  it('names unknown dependencies, suggesting the near miss', () => {
    const error = definitionError(() =>
      graph('typo', { nodes: { search: { run }, write: { deps: ['serch', 'nowhere'], run } } }),
    );
    expect(error.problems).toEqual([
      "node 'write' depends on 'serch', which is not a node (did you mean 'search'?)",
      "node 'write' depends on 'nowhere', which is not a node",
    ]);
  });

  it('refuses duplicate ids, and lists every problem at once', () => {
    const error = definitionError(() =>
      graph('dupes', {
        nodes: [
          { id: 'a', run },
          { id: 'a', run },
          { id: 'b', deps: ['a', 'a'], optionalDeps: ['z'], run },
          { id: 'c', run: 'not a function' as never },
        ],
      }),
    );
    expect(error.problems).toEqual([
      "node id 'a' is used more than once",
      "node 'b' lists dependency 'a' twice",
      "node 'b' lists 'z' in optionalDeps but not in deps",
      "node 'c' has no run(ctx, inputs, input) function",
    ]);
  });

  it('refuses an empty graph and bad names', () => {
    expect(definitionError(() => graph('empty', { nodes: {} })).problems).toEqual(['it has no nodes']);
    expect(definitionError(() => graph('a/b', { nodes: { 'x y': { run } } })).problems).toEqual([
      "the graph's name 'a/b' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'",
      "node id 'x y' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'",
    ]);
  });
});

describe('graph.describe()', () => {
  const research = graph('research', {
    description: 'Answers a question',
    nodes: {
      write: { deps: ['web', 'math', 'docs'], optionalDeps: ['math'], run, description: 'Drafts the answer' },
      plan: { run },
      web: { deps: ['plan'], run },
      math: { deps: ['plan'], when: () => true, run },
      docs: { run },
      review: { deps: ['write'], run },
    },
  });

  it('layers nodes into parallel levels by their deepest dependency', () => {
    const described = research.describe();
    expect(described.levels).toEqual([['plan', 'docs'], ['web', 'math'], ['write'], ['review']]);
    expect(research.nodes.map((node) => node.id)).toEqual(['plan', 'docs', 'web', 'math', 'write', 'review']);
  });

  it('exports nodes and edges, with conditions and optional edges marked', () => {
    const described = research.describe();
    expect(described.nodes.find((node) => node.id === 'math')).toEqual({
      id: 'math',
      deps: ['plan'],
      optionalDeps: [],
      conditional: true,
      level: 1,
    });
    expect(described.edges).toEqual([
      { from: 'web', to: 'write', optional: false },
      { from: 'math', to: 'write', optional: true },
      { from: 'docs', to: 'write', optional: false },
      { from: 'plan', to: 'web', optional: false },
      { from: 'plan', to: 'math', optional: false },
      { from: 'write', to: 'review', optional: false },
    ]);
    // A copy: changing it does not change the graph.
    described.levels.pop();
    expect(research.describe().levels).toHaveLength(4);
  });

  it('prints for the CLI', () => {
    const text = formatGraph(research.describe());
    expect(text).toContain('graph research (6 nodes, 6 edges)');
    expect(text).toContain('   0  plan  docs');
    expect(text).toContain('   1  web  math?');
    expect(text).toContain('  math --> write');
    expect(text).toContain('  write  Drafts the answer');
  });

  it('travels with its workflow', () => {
    const definition = graphWorkflow(research);
    expect(definition.name).toBe('research');
    expect(definition.options.description).toBe('Answers a question');
    expect(graphOf(definition)).toBe(research);
  });
});
