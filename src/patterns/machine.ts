import type { WorkflowContext } from '../engine/context.ts';
import { defineWorkflow, type WorkflowDefinition, type WorkflowOptions } from '../engine/workflow.ts';
import { findCycles } from './graph.ts';
import { runMachine } from './machine-run.ts';
import { MachineDefinitionError } from './pattern-errors.ts';

import {
  type MachineEdgeSpec,
  type MachineStateSpec,
  type MachineSpec,
  type MachineEdge,
  type MachineDescription,
  type MachineResult,
  type Machine,
} from './machine-types.ts';
export type {
  MachineStep,
  MachineEdgeSpec,
  MachineStateSpec,
  MachineSpec,
  MachineEdge,
  MachineDescription,
  MachineResult,
  Machine,
} from './machine-types.ts';
export { edgeKey } from './machine-types.ts';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Defines a state machine whose cycles are on purpose and bounded: "draft → review → revise until
 * approved, at most 3 times". Checked now (MachineDefinitionError lists every problem): unknown
 * states, states the initial one cannot reach, states that cannot reach a final state, and any cycle
 * without a bounded edge (`max`).
 *
 * @example
 * const review = machine('review', {
 *   initial: 'draft',
 *   states: {
 *     draft: { run: (ctx, { input }) => ctx.runAgent(writer, input.topic), next: 'review' },
 *     review: {
 *       run: (ctx, { previous }) => ctx.runAgent(reviewer, { task: 'Review this', context: previous }),
 *       next: [{ to: 'publish', when: (verdict) => verdict.approved }, { to: 'revise', max: 3 }, 'escalate'],
 *     },
 *     revise: { run: (ctx, { outputs }) => ctx.runAgent(writer, { task: 'Revise', context: outputs }), next: 'review' },
 *     publish: {},
 *     escalate: {},
 *   },
 * });
 */
export function machine<Input = any, Context extends WorkflowContext = WorkflowContext>(
  name: string,
  spec: MachineSpec<Input, Context>,
): Machine<Input, Context> {
  const problems: string[] = [];
  if (typeof name !== 'string' || !ID.test(name))
    problems.push(
      `its name '${String(name)}' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'`,
    );
  const states = new Map<string, MachineStateSpec<Input, Context>>();
  const given = typeof spec === 'object' && spec !== null ? spec.states : undefined;
  if (typeof given !== 'object' || given === null || Object.keys(given).length === 0) {
    problems.push('it has no states (spec.states)');
  } else {
    for (const [id, state] of Object.entries(given)) {
      if (!ID.test(id))
        problems.push(`state id '${id}' must be 1–128 characters of letters, digits, '_', '.', ':' or '-'`);
      else if (typeof state !== 'object' || state === null) problems.push(`state '${id}' is not an object`);
      else {
        if (state.run !== undefined && typeof state.run !== 'function')
          problems.push(`state '${id}' has a run that is not a function`);
        states.set(id, state);
      }
    }
  }
  const edges = new Map<string, MachineEdge<Input>[]>();
  for (const [id, state] of states) {
    const list: MachineEdge<Input>[] = [];
    const next = state.next === undefined ? [] : typeof state.next === 'string' ? [state.next] : state.next;
    if (!Array.isArray(next)) {
      problems.push(`state '${id}' has a next that is not a state or a list of edges`);
      continue;
    }
    for (const entry of next as readonly (string | MachineEdgeSpec<Input>)[]) {
      const edge = typeof entry === 'string' ? { to: entry } : entry;
      if (typeof edge !== 'object' || edge === null || typeof edge.to !== 'string') {
        problems.push(`state '${id}' has an edge without a target state ('to')`);
        continue;
      }
      if (!states.has(edge.to) && !(given && Object.hasOwn(given, edge.to)))
        problems.push(`state '${id}' goes to '${edge.to}', which is not a state`);
      if (edge.max !== undefined && (!Number.isInteger(edge.max) || edge.max < 1))
        problems.push(
          `edge ${id} → ${edge.to} has max ${String(edge.max)}; use a whole number of at least 1`,
        );
      if (edge.when !== undefined && typeof edge.when !== 'function')
        problems.push(`edge ${id} → ${edge.to} has a 'when' that is not a function`);
      list.push(Object.freeze({ from: id, to: edge.to, when: edge.when, max: edge.max }));
    }
    edges.set(id, list);
  }
  const initial = spec?.initial;
  if (typeof initial !== 'string' || !states.has(initial))
    problems.push(`its initial state '${String(initial)}' is not one of its states`);
  const maxSteps = spec?.maxSteps ?? 1000;
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    problems.push(`maxSteps ${String(maxSteps)} must be a whole number of at least 1`);

  const cycles: MachineDescription['cycles'] = [];
  if (problems.length === 0) {
    problems.push(...checkStructure(initial, states, edges, cycles));
  }
  if (problems.length > 0) throw new MachineDefinitionError({ machine: String(name), problems });

  const description: MachineDescription = {
    name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    initial,
    states: [...states].map(([id, state]) => ({
      id,
      final: edges.get(id)!.length === 0,
      ...(state.description === undefined ? {} : { description: state.description }),
    })),
    edges: [...edges.values()].flat().map((edge) => ({
      from: edge.from,
      to: edge.to,
      ...(edge.max === undefined ? {} : { max: edge.max }),
      conditional: edge.when !== undefined,
    })),
    cycles,
  };
  const defined: Machine<Input, Context> = Object.freeze({
    kind: 'machine' as const,
    name,
    description: spec.description,
    initial,
    states,
    edges,
    maxSteps,
    run: (ctx: Context, input: Input) => runMachine(defined, ctx, input),
    describe: () => structuredClone(description),
  });
  return defined;
}

/** Reachability, a way out to a final state from everywhere, and a bound on every cycle. */
function checkStructure(
  initial: string,
  states: ReadonlyMap<string, unknown>,
  edges: ReadonlyMap<string, readonly MachineEdge[]>,
  cycles: MachineDescription['cycles'],
): string[] {
  const problems: string[] = [];
  const reached = new Set<string>([initial]);
  for (const queue = [initial]; queue.length > 0;) {
    for (const edge of edges.get(queue.pop()!) ?? []) {
      if (reached.has(edge.to)) continue;
      reached.add(edge.to);
      queue.push(edge.to);
    }
  }
  for (const id of states.keys())
    if (!reached.has(id))
      problems.push(`state '${id}' cannot be reached from the initial state '${initial}'`);

  const finals = [...states.keys()].filter((id) => edges.get(id)!.length === 0);
  if (finals.length === 0) problems.push('it has no final state (a state without next)');
  const canEnd = new Set(finals);
  for (let grew = true; grew;) {
    grew = false;
    for (const [id, out] of edges) {
      if (canEnd.has(id) || !out.some((edge) => canEnd.has(edge.to))) continue;
      canEnd.add(id);
      grew = true;
    }
  }
  // findCycles reads a state's "deps" as the states it goes to, and writes cycles dependency first.
  const asGraph = (keep: (edge: MachineEdge) => boolean) =>
    [...edges].map(([id, out]) => ({ id, deps: out.filter(keep).map((edge) => edge.to) }));
  // Each cycle read in the direction the machine moves, from its state defined first.
  const order = [...states.keys()];
  const readable = (cycle: readonly string[]): string[] => {
    const ring = [...cycle].reverse().slice(0, -1);
    const start = ring.indexOf(ring.reduce((a, b) => (order.indexOf(a) <= order.indexOf(b) ? a : b)));
    const path = [...ring.slice(start), ...ring.slice(0, start)];
    return [...path, path[0]!];
  };
  const trapped = new Set<string>();
  for (const cycle of findCycles(asGraph(() => true))) {
    const path = readable(cycle);
    const inCycle = new Set(path);
    const bounded = path
      .slice(0, -1)
      .flatMap((from, index) =>
        (edges.get(from) ?? []).filter((edge) => edge.to === path[index + 1] && edge.max !== undefined),
      );
    const exits = [...inCycle].some((id) => (edges.get(id) ?? []).some((edge) => !inCycle.has(edge.to)));
    if (bounded.length > 0)
      cycles.push({ path, bound: `${bounded[0]!.from} → ${bounded[0]!.to} at most ${bounded[0]!.max}` });
    if (!exits) {
      problems.push(`cycle ${path.join(' → ')} has no exit: no edge leaves it`);
      for (const id of inCycle) trapped.add(id);
    }
  }
  for (const cycle of findCycles(asGraph((edge) => edge.max === undefined))) {
    const path = readable(cycle);
    problems.push(`cycle ${path.join(' → ')} has no bound: give one of its edges a max`);
  }
  for (const id of states.keys())
    if (reached.has(id) && !canEnd.has(id) && !trapped.has(id))
      problems.push(`state '${id}' cannot reach a final state`);
  return problems;
}

/** A workflow whose whole body is this machine; it carries the machine for `baton graph`. */
export function machineWorkflow<Input = any, Context extends WorkflowContext = WorkflowContext>(
  defined: Machine<Input, Context>,
  options: WorkflowOptions & { name?: string } = {},
): WorkflowDefinition<Input, MachineResult, Context> & { readonly machine: Machine<Input, Context> } {
  const { name, ...workflowOptions } = options;
  const definition = defineWorkflow<Input, MachineResult, Context>(
    name ?? defined.name,
    (ctx, input) => defined.run(ctx, input),
    {
      ...(defined.description === undefined ? {} : { description: defined.description }),
      ...workflowOptions,
    },
  );
  return Object.freeze({ ...definition, machine: defined });
}

/** The machine a workflow runs, when it was made with {@link machineWorkflow}. */
export function machineOf(definition: WorkflowDefinition<any, any, any>): Machine | undefined {
  const candidate = (definition as { machine?: unknown }).machine;
  return typeof candidate === 'object' &&
    candidate !== null &&
    (candidate as { kind?: unknown }).kind === 'machine'
    ? (candidate as Machine)
    : undefined;
}
