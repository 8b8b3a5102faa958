import { editDistance } from '../edit-distance.ts';
import type { WorkflowContext } from '../engine/context.ts';
import { defineWorkflow, type WorkflowDefinition, type WorkflowOptions } from '../engine/workflow.ts';
import { runGraph } from './graph-run.ts';
import { GraphDefinitionError } from './pattern-errors.ts';

import type {
  GraphNodeSpec,
  GraphSpec,
  GraphNode,
  GraphDescription,
  GraphResult,
  Graph,
  GraphWorkflowDefinition,
} from './graph-types.ts';
export type {
  GraphNodeSpec,
  GraphSpec,
  GraphNode,
  GraphDescription,
  GraphResult,
  Graph,
  GraphWorkflowDefinition,
} from './graph-types.ts';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Defines a DAG of nodes with dependencies and conditional edges. The definition is checked now:
 * duplicate ids, unknown dependencies and cycles (named by their path) throw GraphDefinitionError
 * listing every problem, before anything runs.
 *
 * @example
 * const research = graph('research', {
 *   nodes: {
 *     plan:   { run: (ctx, _, input: { question: string }) => ctx.step('plan', () => plan(input.question)) },
 *     web:    { deps: ['plan'], run: (ctx, { plan }) => ctx.runAgent(webAgent, { task: plan.web }) },
 *     math:   { deps: ['plan'], when: ({ plan }) => plan.needsMath, run: (ctx, { plan }) => ctx.runAgent(calculator, { task: plan.math }) },
 *     write:  { deps: ['web', 'math'], optionalDeps: ['math'], run: (ctx, inputs) => ctx.runAgent(writer, { task: 'Write it up', context: inputs }) },
 *   },
 * });
 * const { outputs } = await research.run(ctx, { question });   // or: graphWorkflow(research)
 */
export function graph<Input = any, Context extends WorkflowContext = WorkflowContext>(
  name: string,
  spec: GraphSpec<Input, Context>,
): Graph<Input, Context> {
  const problems: string[] = [];
  if (typeof name !== 'string' || !ID.test(name)) {
    problems.push(
      `the graph's name '${String(name)}' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'`,
    );
  }
  const entries = listNodes(spec, problems);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));

  for (const { id, node } of entries) {
    if (typeof node.run !== 'function') problems.push(`node '${id}' has no run(ctx, inputs, input) function`);
    if (node.when !== undefined && typeof node.when !== 'function')
      problems.push(`node '${id}' has a 'when' that is not a function`);
    const deps = node.deps ?? [];
    if (!Array.isArray(deps)) {
      problems.push(`node '${id}' has deps that are not a list of node ids`);
      continue;
    }
    const seen = new Set<string>();
    for (const dep of deps) {
      if (seen.has(dep)) problems.push(`node '${id}' lists dependency '${dep}' twice`);
      seen.add(dep);
      if (!byId.has(dep)) {
        const near = nearest(dep, [...byId.keys()]);
        problems.push(
          `node '${id}' depends on '${dep}', which is not a node${near ? ` (did you mean '${near}'?)` : ''}`,
        );
      }
    }
    for (const dep of node.optionalDeps ?? []) {
      if (!seen.has(dep)) problems.push(`node '${id}' lists '${dep}' in optionalDeps but not in deps`);
    }
  }
  const edges = entries.map(({ id, node }) => ({ id, deps: Array.isArray(node.deps) ? node.deps : [] }));
  for (const cycle of findCycles(edges)) problems.push(`cycle: ${cycle.join(' → ')}`);
  if (problems.length > 0) throw new GraphDefinitionError({ graph: String(name), problems });

  const levels = layer(entries.map(({ id, node }) => ({ id, deps: node.deps ?? [] })));
  const nodes: GraphNode<Input, Context>[] = levels.flat().map((id) => {
    const { node } = byId.get(id)!;
    return Object.freeze({
      id,
      deps: Object.freeze([...(node.deps ?? [])]),
      optionalDeps: new Set(node.optionalDeps ?? []),
      description: node.description,
      when: node.when,
      run: node.run,
      level: levels.findIndex((level) => level.includes(id)),
    });
  });
  const description: GraphDescription = {
    name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    nodes: entries.map(({ id }) => {
      const node = nodes.find((candidate) => candidate.id === id)!;
      return {
        id,
        deps: [...node.deps],
        optionalDeps: [...node.optionalDeps],
        conditional: node.when !== undefined,
        level: node.level,
        ...(node.description === undefined ? {} : { description: node.description }),
      };
    }),
    edges: entries.flatMap(({ id, node }) =>
      (node.deps ?? []).map((dep) => ({
        from: dep,
        to: id,
        optional: (node.optionalDeps ?? []).includes(dep),
      })),
    ),
    levels,
  };
  const defined: Graph<Input, Context> = Object.freeze({
    kind: 'graph' as const,
    name,
    description: spec.description,
    nodes: Object.freeze(nodes),
    run: (ctx: Context, input: Input) => runGraph(defined, ctx, input),
    describe: () => structuredClone(description),
  });
  return defined;
}

/**
 * A workflow whose whole body is this graph: `baton.start(graphWorkflow(g), input)`. It carries
 * the graph, so `baton graph <workflow>` can print its structure.
 */
export function graphWorkflow<Input = any, Context extends WorkflowContext = WorkflowContext>(
  graph: Graph<Input, Context>,
  options: WorkflowOptions & { name?: string } = {},
): GraphWorkflowDefinition<Input, Context> {
  const { name, ...workflowOptions } = options;
  const definition = defineWorkflow<Input, GraphResult, Context>(
    name ?? graph.name,
    (ctx, input) => graph.run(ctx, input),
    {
      ...(graph.description === undefined ? {} : { description: graph.description }),
      ...workflowOptions,
    },
  );
  return Object.freeze({ ...definition, graph });
}

/** The graph a workflow runs, when it was made with {@link graphWorkflow}. */
export function graphOf(definition: WorkflowDefinition<any, any, any>): Graph | undefined {
  const candidate = (definition as { graph?: unknown }).graph;
  return typeof candidate === 'object' &&
    candidate !== null &&
    (candidate as { kind?: unknown }).kind === 'graph'
    ? (candidate as Graph)
    : undefined;
}

function listNodes<Input, Context extends WorkflowContext>(
  spec: GraphSpec<Input, Context>,
  problems: string[],
): { id: string; node: GraphNodeSpec<Input, Context> }[] {
  const nodes = typeof spec === 'object' && spec !== null ? spec.nodes : undefined;
  let entries: { id: string; node: GraphNodeSpec<Input, Context> }[];
  if (Array.isArray(nodes)) {
    entries = nodes.map((node: GraphNodeSpec<Input, Context> & { id: string }) => ({ id: node?.id, node }));
  } else if (typeof nodes === 'object' && nodes !== null) {
    entries = Object.entries(nodes as Record<string, GraphNodeSpec<Input, Context>>).map(([id, node]) => ({
      id,
      node,
    }));
  } else {
    problems.push('it has no nodes (spec.nodes)');
    return [];
  }
  if (entries.length === 0) problems.push('it has no nodes');
  const seen = new Set<string>();
  const valid: typeof entries = [];
  for (const entry of entries) {
    if (typeof entry.node !== 'object' || entry.node === null) {
      problems.push(`node '${String(entry.id)}' is not an object`);
    } else if (typeof entry.id !== 'string' || !ID.test(entry.id)) {
      problems.push(
        `node id '${String(entry.id)}' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'`,
      );
    } else if (seen.has(entry.id)) {
      problems.push(`node id '${entry.id}' is used more than once`);
    } else {
      seen.add(entry.id);
      valid.push(entry);
    }
  }
  return valid;
}

/** Every cycle a depth-first search meets, each as its path ending where it began (`a → b → a`). */
export function findCycles(nodes: readonly { id: string; deps: readonly string[] }[]): string[][] {
  const deps = new Map(nodes.map((node) => [node.id, node.deps]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, 'open');
    path.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (!deps.has(dep)) continue;
      if (state.get(dep) === 'open') {
        // Print the cycle in the direction work flows: a dependency before its dependents.
        const cycle = path.slice(path.indexOf(dep)).reverse();
        cycle.push(cycle[0]!);
        const key = [...cycle.slice(0, -1)].sort().join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (!state.has(dep)) {
        visit(dep);
      }
    }
    path.pop();
    state.set(id, 'done');
  };
  for (const node of nodes) if (!state.has(node.id)) visit(node.id);
  return cycles;
}

/** Topological layers: level 0 has no deps; every other node sits one below its deepest dependency. */
function layer(nodes: readonly { id: string; deps: readonly string[] }[]): string[][] {
  const level = new Map<string, number>();
  const deps = new Map(nodes.map((node) => [node.id, node.deps]));
  const depth = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const value = Math.max(-1, ...(deps.get(id) ?? []).map(depth)) + 1;
    level.set(id, value);
    return value;
  };
  const levels: string[][] = [];
  for (const node of nodes) (levels[depth(node.id)] ??= []).push(node.id);
  return levels;
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
