import { DelegationWidensError } from '../access/access-errors.ts';
import { delegate } from '../access/delegate.ts';
import type { Grant } from '../access/grant.ts';
import { agentNeeds } from '../agents/agent-needs.ts';
import { isAgentDefinition, type AgentDefinition } from '../agents/agent.ts';
import { isToolDefinition } from '../agents/tool.ts';
import { editDistance } from '../edit-distance.ts';
import { BatonError } from '../errors.ts';
import type { PlanTaskRecord, RouteCandidateRecord } from '../journal/events.ts';
import { findCycles } from '../patterns/graph.ts';
import type { CodeWorker, PlanTask, PlanWorker } from './plan-types.ts';

/** What a plan is checked against. */
export interface PlanEnvironment {
  workers: Readonly<Record<string, PlanWorker<any>>>;
  maxTasks: number;
  /** The run's grant; undefined when it holds none (then nothing is narrowed). */
  grant: Grant | undefined;
  /** Epoch ms, for the grant's expiry. */
  now: number;
  /** Tasks completed by earlier revisions: depending on one, or listing it again, keeps it. */
  completed: ReadonlySet<string>;
  /** Routes a capability among the workers (the capability index, with its cost bias). */
  route(capability: string): Promise<{ chosen?: string; candidates: RouteCandidateRecord[]; reason: string }>;
  /** Delegation depth limit (the access layer's). */
  maxDepth?: number;
}

export type PlanCheck =
  | { ok: true; tasks: PlanTaskRecord[]; levels: string[][]; kept: string[] }
  | { ok: false; problems: string[] };

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Checks a proposed plan as data, before anything runs, and lists every problem a planner must fix:
 * a shape that is not a plan, too many tasks, duplicate ids, unknown or self dependencies, cycles,
 * tasks that could never start, unknown workers, capabilities no worker offers, tools a worker does
 * not have, and tasks the run's grant does not allow. A passing plan comes back with each task
 * routed (its worker, the candidates and why), the grant actions it is narrowed to, and its
 * parallel levels.
 */
export async function checkPlan(proposal: unknown, env: PlanEnvironment): Promise<PlanCheck> {
  const problems: string[] = [];
  const given = (proposal as { tasks?: unknown } | null)?.tasks;
  if (typeof proposal !== 'object' || proposal === null || !Array.isArray(given))
    return {
      ok: false,
      problems: ['it is not a plan: expected { tasks: [{ id, description, deps, capability | worker }] }'],
    };
  if (given.length === 0) return { ok: false, problems: ['it has no tasks'] };

  const tasks: PlanTask[] = [];
  const kept = new Set<string>();
  const seen = new Set<string>();
  for (const [index, raw] of given.entries()) {
    const task = raw as Partial<PlanTask> | null;
    const label = typeof task?.id === 'string' ? `task '${task.id}'` : `task ${index + 1}`;
    if (typeof task !== 'object' || task === null) {
      problems.push(`${label} is not an object`);
      continue;
    }
    if (typeof task.id !== 'string' || !ID.test(task.id)) {
      problems.push(`${label} needs an id of 1–128 letters, digits, '_', '.', ':' or '-'`);
      continue;
    }
    if (seen.has(task.id)) {
      problems.push(`task id '${task.id}' is used more than once`);
      continue;
    }
    seen.add(task.id);
    if (env.completed.has(task.id)) {
      kept.add(task.id); // done in an earlier revision: kept, not run again
      continue;
    }
    const shape: string[] = [];
    if (typeof task.description !== 'string' || task.description.trim() === '')
      shape.push(`${label} needs a description`);
    for (const field of ['deps', 'tools'] as const) {
      const list = task[field];
      if (list !== undefined && (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string')))
        shape.push(`${label} has ${field} that are not a list of names`);
    }
    const named = [task.worker, task.capability].filter((value) => value !== undefined);
    if (named.some((value) => typeof value !== 'string' || value.trim() === ''))
      shape.push(`${label} has a worker or capability that is not a non-empty string`);
    else if (named.length === 0) shape.push(`${label} names neither a worker nor a capability`);
    else if (named.length === 2) shape.push(`${label} names both a worker and a capability: name one`);
    problems.push(...shape);
    if (shape.length === 0) tasks.push(task as PlanTask);
  }
  if (given.length - kept.size > env.maxTasks)
    problems.push(`it has ${given.length - kept.size} tasks to run, more than the limit of ${env.maxTasks}`);

  const ids = new Set(tasks.map((task) => task.id));
  const known = [...ids, ...env.completed];
  for (const task of tasks) {
    const deps = new Set<string>();
    for (const dep of task.deps ?? []) {
      if (dep === task.id) problems.push(`task '${task.id}' depends on itself`);
      else if (deps.has(dep)) problems.push(`task '${task.id}' lists dependency '${dep}' twice`);
      else if (env.completed.has(dep)) kept.add(dep);
      else if (!ids.has(dep) && seen.has(dep)) {
        // A task with problems of its own: reported already.
      } else if (!ids.has(dep)) {
        const near = nearest(dep, known);
        problems.push(
          `task '${task.id}' depends on '${dep}', which is not a task${near ? ` (did you mean '${near}'?)` : ''}`,
        );
      }
      deps.add(dep);
    }
  }
  const graph = tasks.map((task) => ({
    id: task.id,
    deps: (task.deps ?? []).filter((dep) => ids.has(dep) && dep !== task.id),
  }));
  const cycles = findCycles(graph);
  for (const cycle of cycles) problems.push(`it is not a graph: cycle ${cycle.join(' → ')}`);
  const levels = layer(graph);
  if (cycles.length > 0) {
    const placed = new Set(levels.flat());
    const onCycle = new Set(cycles.flat());
    for (const task of tasks)
      if (!placed.has(task.id) && !onCycle.has(task.id))
        problems.push(`task '${task.id}' can never start: it waits on a cycle`);
  }

  const records: PlanTaskRecord[] = [];
  for (const task of tasks) {
    const record = await assign(task, env, problems);
    if (record) records.push({ ...record, level: levels.findIndex((level) => level.includes(task.id)) });
  }
  if (problems.length > 0) return { ok: false, problems };
  const order = levels.flat();
  records.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  return { ok: true, tasks: records, levels, kept: [...kept].sort() };
}

/** Routes a task to its worker and narrows the grant to it; pushes what is wrong. */
async function assign(
  task: PlanTask,
  env: PlanEnvironment,
  problems: string[],
): Promise<Omit<PlanTaskRecord, 'level'> | undefined> {
  const names = Object.keys(env.workers);
  let assigned: string;
  let routed: { candidates: RouteCandidateRecord[]; reason: string } | undefined;
  if (task.worker !== undefined) {
    if (!Object.hasOwn(env.workers, task.worker)) {
      const near = nearest(task.worker, names);
      problems.push(
        `task '${task.id}' names worker '${task.worker}', which is not a worker${near ? ` (did you mean '${near}'?)` : ''}; workers: ${names.join(', ')}`,
      );
      return undefined;
    }
    assigned = task.worker;
  } else {
    const decision = await env.route(task.capability!);
    if (!decision.chosen) {
      problems.push(
        `task '${task.id}' asks for capability '${task.capability}', which no worker offers: ${decision.reason}`,
      );
      return undefined;
    }
    assigned = decision.chosen;
    routed = { candidates: decision.candidates, reason: decision.reason };
  }
  const worker = env.workers[assigned]!;
  const agent = isAgentDefinition(worker) ? worker : undefined;
  const tools = agent ? agent.tools.filter(isToolDefinition) : [];
  const toolProblems = (task.tools ?? [])
    .filter((name) => agent && !tools.some((tool) => tool.name === name))
    .map(
      (name) =>
        `task '${task.id}' asks for tool '${name}', which worker '${assigned}' does not have (it has: ${tools.map((tool) => tool.name).join(', ') || 'no tools'})`,
    );
  problems.push(...toolProblems);

  const needs = taskNeeds(task, agent, worker as CodeWorker);
  let actions = [...needs.actions];
  if (env.grant) {
    try {
      actions = [
        ...delegate(
          env.grant,
          { actions: needs.actions, holder: `task:${task.id}` },
          {
            strict: needs.strict,
            now: env.now,
            ...(env.maxDepth === undefined ? {} : { maxDepth: env.maxDepth }),
          },
        ).actions,
      ];
    } catch (error) {
      if (error instanceof DelegationWidensError)
        problems.push(
          `task '${task.id}' needs ${error.actions.join(', ')}, which the run's grant does not allow (it holds ${env.grant.actions.join(', ') || 'nothing'})`,
        );
      else if (BatonError.isInstance(error))
        problems.push(`task '${task.id}' cannot be given a grant: ${error.message}`);
      else throw error;
    }
  }
  const used = task.tools ? tools.filter((tool) => task.tools!.includes(tool.name)) : tools;
  const irreversible = agent
    ? used.some((tool) => tool.effect === 'irreversible')
    : (worker as CodeWorker).irreversible === true;
  return {
    id: task.id,
    description: task.description,
    deps: [...(task.deps ?? [])],
    ...(task.capability === undefined ? {} : { capability: task.capability }),
    ...(task.worker === undefined ? {} : { worker: task.worker }),
    assigned,
    ...(routed ? { candidates: routed.candidates, routeReason: routed.reason } : {}),
    actions,
    ...(irreversible ? { irreversible: true } : {}),
  };
}

/**
 * The grant actions a task needs: the tools it names (strictly: one the grant lacks refuses the
 * plan), else its worker's declared needs (strictly), else what its agent's tools need (of which it
 * gets what the grant holds, as any agent does).
 */
function taskNeeds(
  task: PlanTask,
  agent: AgentDefinition<any> | undefined,
  worker: CodeWorker,
): { actions: string[]; strict: boolean } {
  if (task.tools) {
    const secrets = agent
      ? agent.tools
          .filter(isToolDefinition)
          .filter((tool) => task.tools!.includes(tool.name))
          .flatMap((tool) => tool.secrets.map((secret) => `secret:${secret}`))
      : [];
    return { actions: [...task.tools.map((name) => `tool:${name}`), ...secrets], strict: true };
  }
  if (agent) {
    const needs = agentNeeds(agent);
    return { actions: [...needs.actions], strict: needs.declared };
  }
  return { actions: [...(worker.needs ?? [])], strict: true };
}

/** Topological layers of the tasks not on a cycle: level 0 has no deps. */
function layer(nodes: readonly { id: string; deps: readonly string[] }[]): string[][] {
  const remaining = new Map(nodes.map((node) => [node.id, node.deps]));
  const levels: string[][] = [];
  const placed = new Set<string>();
  for (;;) {
    const level = [...remaining].filter(([, deps]) => deps.every((dep) => placed.has(dep))).map(([id]) => id);
    if (level.length === 0) return levels;
    for (const id of level) remaining.delete(id);
    for (const id of level) placed.add(id);
    levels.push(level);
  }
}

function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance >= bestDistance) continue;
    best = candidate;
    bestDistance = distance;
  }
  return best;
}
