import { InvalidArgumentError, RunNotFoundError, type SerializedError } from '../errors.ts';
import { eventOp, type JournalEvent } from '../journal/events.ts';
import type { ForkNote, RunRecord, RunStatus, Store, TenantScope } from '../store/store.ts';
import { agentNode, toolNode, turnNode, type TurnMemory } from './agent-nodes.ts';
import type { Explanation, ExplanationNode } from './explanation.ts';
import { brief } from './message-text.ts';
import { deriveRunModel } from '../journal/run-model/derive-run-model.ts';
import type { CostEntry, RunModel } from '../journal/run-model/run-model.ts';
import { between, first, last, NodeContext } from './node-context.ts';
import { roundUsd } from '../rounding.ts';
import { opNode } from './op-nodes.ts';
import { suggestRunIds } from './suggest-run-ids.ts';

export interface ExplainOptions {
  /** Start from this seq ("teleport"): what comes before it is summed up, the nodes that hold it are kept. */
  at?: number;
  /** Levels of the tree to keep (1: top-level nodes only). Nodes below are counted in `hidden`. Default: all. */
  depth?: number;
  /** Look in this tenant only. */
  tenant?: string;
}

/**
 * Explains a run from its journal: every agent turn (what it was asked, what it decided — a tool
 * call with its arguments, a handoff, an answer —, why: the model's stated reasoning, routing
 * candidates and scores, guardrail and policy verdicts, who approved; what happened, its cost and
 * time, and the identity it acted under), and the run's steps, timers, signals, children and
 * pattern decisions. Reads only; print it with {@link formatExplanation}.
 *
 * @example
 * const explanation = await explain(baton.store, runId, { at: 12 });
 * console.log(formatExplanation(explanation));
 * @throws RunNotFoundError (with near matches), InvalidArgumentError for a seq out of range.
 */
export async function explain(
  store: Store,
  runId: string,
  options: ExplainOptions = {},
): Promise<Explanation> {
  const scope: TenantScope | undefined =
    options.tenant === undefined ? undefined : { tenant: options.tenant };
  const run = await store.getRun(runId, scope);
  if (!run) throw new RunNotFoundError({ runId, suggestions: await suggestRunIds(store, runId, scope) });
  const events = await store.readEvents(runId, 1, scope);
  return explainEvents(events, { ...options, run });
}

/** Explains a run from its events alone (an exported history), or with its run record when there is one. */
export function explainEvents(
  events: readonly JournalEvent[],
  options: ExplainOptions & { run?: RunRecord } = {},
): Explanation {
  const started = first(events, 'run.started');
  if (!started)
    throw new InvalidArgumentError(
      'These events have no run.started: they are not the start of a run’s journal.',
    );
  const lastEvent = events[events.length - 1]!;
  if (
    options.at !== undefined &&
    (!Number.isInteger(options.at) || options.at < 1 || options.at > lastEvent.seq)
  ) {
    throw new InvalidArgumentError(
      `Run ${started.runId} has events 1 to ${lastEvent.seq}; --at ${options.at} is not one of them.`,
    );
  }
  if (options.depth !== undefined && (!Number.isInteger(options.depth) || options.depth < 1)) {
    throw new InvalidArgumentError(
      `The depth of an explanation is a whole number ≥ 1, got ${options.depth}.`,
    );
  }
  // A fork of a fork holds its origin's run.forked too: the last one is this run's.
  const forked = last(events, 'run.forked');
  const context = new NodeContext(events, forked?.payload.copied ?? 0);
  const model = deriveRunModel(events);
  const nodes = buildTree(events, context, model);
  const ended = events.find(
    (event) =>
      event.type === 'run.completed' ||
      event.type === 'run.failed' ||
      event.type === 'run.cancelled' ||
      event.type === 'run.continued',
  );
  const cost = spend(model.costs);
  const run = options.run;
  const explanation: Explanation = {
    runId: started.runId,
    workflow: started.payload.workflow,
    status: run?.status ?? statusOf(ended),
    tenant: run?.tenant ?? 'default',
    principal: run?.principal ?? started.actor,
    input: started.payload.input,
    ...(ended?.type === 'run.completed' ? { result: ended.payload.result } : {}),
    ...(ended?.type === 'run.failed' ? { error: ended.payload.error } : {}),
    ...(ended?.type === 'run.cancelled' ? { error: cancelled(ended) } : {}),
    startedAt: started.at,
    endedAt: lastEvent.at,
    durationMs: between(started.at, lastEvent.at),
    events: events.length,
    costUsd: cost.usd,
    usage: { inputTokens: cost.inputTokens, outputTokens: cost.outputTokens },
    ...(forked
      ? {
          fork: {
            from: { runId: forked.payload.from.runId, seq: forked.payload.from.seq },
            copied: forked.payload.copied,
            ...(forked.payload.overrides ? { overrides: forked.payload.overrides } : {}),
          },
        }
      : {}),
    forks: forksOf(run),
    nodes,
  };
  if (options.at !== undefined) teleport(explanation, events, options.at);
  if (options.depth !== undefined) explanation.nodes = limitDepth(explanation.nodes, options.depth);
  return explanation;
}

interface Container {
  node: ExplanationNode;
  kind: 'agent' | 'pattern';
  name: string;
  /** The run model's key of an agent. */
  key?: string;
  firstSeq: number;
  lastSeq: number;
  ended: boolean;
  memory?: TurnMemory;
  turns?: ExplanationNode[];
}

const PATTERN_PREFIXES = new Set(['sequence', 'parallel', 'graph']);
const AGENT_ENDS = new Set(['agent.completed', 'agent.failed', 'agent.handedOff']);
const PATTERN_ENDS = /^(sequence|parallel|graph)\.(completed|failed)$/;

/**
 * Builds the tree: ops in the order they began; an agent's model calls and the ops its identity
 * performed inside its loop go under it (tool calls and sub-agents under the turn that asked for
 * them, as the run model attributes them: by agent and call id); ops that began inside a pattern go
 * under the pattern.
 */
function buildTree(
  events: readonly JournalEvent[],
  context: NodeContext,
  model: RunModel,
): ExplanationNode[] {
  const agents = new Map(model.agents.map((agent) => [agent.op, agent]));
  const turns = new Map(model.turns.map((turn) => [turn.op, turn]));
  const calls = new Map(model.calls.map((call) => [call.op, call]));
  const operations = new Map(model.operations.map((operation) => [operation.op, operation]));
  const agentContainers = new Map<string, Container>();
  const turnNodes = new Map<string, ExplanationNode>();
  const top: ExplanationNode[] = [];
  const containers: Container[] = [];
  for (const group of opGroups(events)) {
    const head = group[0]!;
    const op = eventOp(head);
    const prefix = head.type.slice(0, head.type.indexOf('.'));
    const lastSeq = group[group.length - 1]!.seq;
    const agent = op === undefined ? undefined : agents.get(op);
    if (prefix === 'agent' && agent) {
      const node = agentNode(group, context);
      const handedOff = first(group, 'agent.handedOff');
      const caller = agent.parent ? agentContainers.get(agent.parent.agent) : undefined;
      // An agent handed the conversation goes on with it: what the agent before it saw is not new to it.
      const from = agent.via === 'handoff' ? caller : undefined;
      const container: Container = {
        node,
        kind: 'agent',
        name: agent.name,
        key: agent.key,
        firstSeq: head.seq,
        lastSeq,
        ended: group.some((event) => AGENT_ENDS.has(event.type)),
        memory: {
          seen: new Set(from?.memory?.seen),
          ...(handedOff ? { handoff: { callId: handedOff.payload.callId, to: handedOff.payload.to } } : {}),
        },
        turns: [],
      };
      const parent =
        agent.via === 'tool' && caller
          ? (turnNodes.get(agent.parent?.turn ?? '') ?? latestTurn(caller, head.seq))
          : patternParent(containers, head.seq);
      (parent?.children ?? top).push(node);
      containers.push(container);
      agentContainers.set(agent.key, container);
      continue;
    }
    const turn = op === undefined ? undefined : turns.get(op);
    const operation = op === undefined ? undefined : operations.get(op);
    const ownerKey = turn?.agent ?? operation?.agent;
    const owner = ownerKey === undefined ? undefined : agentContainers.get(ownerKey);
    if (prefix === 'llm' && owner && turn) {
      const node = turnNode(group, context, owner.memory!);
      owner.node.children.push(node);
      owner.turns!.push(node);
      turnNodes.set(turn.key, node);
      continue;
    }
    let node: ExplanationNode;
    if (group.length === 1 && (head.type === 'run.forked' || head.type === 'pool.breaker.opened'))
      node = runNode(head, context);
    else if (prefix === 'llm') node = turnNode(group, context, { seen: new Set() });
    else if (prefix === 'tool') node = toolNode(group, context);
    else node = opNode(group, context);
    const call = op === undefined ? undefined : calls.get(op);
    const parent = owner
      ? (turnNodes.get(call?.turn ?? '') ?? latestTurn(owner, head.seq))
      : patternParent(containers, head.seq);
    (parent?.children ?? top).push(node);
    if (PATTERN_PREFIXES.has(prefix)) {
      containers.push({
        node,
        kind: 'pattern',
        name: node.title,
        firstSeq: head.seq,
        lastSeq,
        ended: group.some((event) => PATTERN_ENDS.test(event.type)),
      });
    }
  }
  // Under a turn, the calls it made read in the order the model made them (their ops), not the order they finished.
  for (const container of containers) {
    for (const node of container.turns ?? [])
      node.children.sort((a, b) => (a.op ?? Infinity) - (b.op ?? Infinity) || a.seqs[0]! - b.seqs[0]!);
  }
  return top;
}

/** The events of each op, and the run-level events worth a node, in the order they began. */
function opGroups(events: readonly JournalEvent[]): JournalEvent[][] {
  const groups = new Map<number, JournalEvent[]>();
  const entries: JournalEvent[][] = [];
  for (const event of events) {
    const op = eventOp(event);
    if (op === undefined) {
      if (event.type === 'run.forked' || event.type === 'pool.breaker.opened') entries.push([event]);
      continue;
    }
    let group = groups.get(op);
    if (!group) {
      groups.set(op, (group = []));
      entries.push(group);
    }
    group.push(event);
  }
  return entries.sort((a, b) => a[0]!.seq - b[0]!.seq);
}

/** The agent's latest turn begun before `seq`; else the agent. */
function latestTurn(agent: Container, seq: number): ExplanationNode {
  return (agent.turns ?? []).filter((turn) => turn.seqs[0]! < seq).at(-1) ?? agent.node;
}

/** A run-level event worth a node: the fork point, a pool's breaker opening. */
function runNode(event: JournalEvent, context: NodeContext): ExplanationNode {
  if (event.type === 'run.forked') {
    const payload = event.payload;
    const node = context.node(
      'run',
      `forked from ${payload.from.runId} at seq ${payload.from.seq}`,
      [event],
      'ok',
    );
    const overrides = Object.entries(payload.overrides ?? {}).map(
      ([key, value]) => `${key} ${brief(value, 120)}`,
    );
    node.outcome = {
      summary: `events 1–${payload.copied} copied; live from here${overrides.length ? `, with ${overrides.join('; ')}` : ''}`,
    };
    return node;
  }
  if (event.type !== 'pool.breaker.opened') return context.node('other', event.type, [event], 'ok');
  const payload = event.payload;
  const node = context.node('other', `pool ${payload.pool}: breaker opened`, [event], 'failed');
  node.outcome = {
    summary: `on ${payload.what}: ${payload.error.message}; half-open after ${payload.halfOpenAfterMs} ms`,
    error: payload.error,
  };
  return node;
}

function isOpen(container: Container, seq: number): boolean {
  return container.firstSeq < seq && (!container.ended || seq <= container.lastSeq);
}

/** The innermost pattern (sequence, parallel, graph) that holds `seq`. */
function patternParent(containers: readonly Container[], seq: number): ExplanationNode | undefined {
  for (let index = containers.length - 1; index >= 0; index--) {
    const container = containers[index]!;
    if (container.kind === 'pattern' && isOpen(container, seq)) return container.node;
  }
  return undefined;
}

/** Model spend: the run model's charges (each turn, routed attempt and judge once). */
function spend(costs: readonly CostEntry[]): { usd: number; inputTokens: number; outputTokens: number } {
  const total = { usd: 0, inputTokens: 0, outputTokens: 0 };
  for (const charge of costs) {
    total.usd += charge.usd;
    total.inputTokens += charge.inputTokens;
    total.outputTokens += charge.outputTokens;
  }
  total.usd = roundUsd(total.usd);
  return total;
}

function statusOf(ended: JournalEvent | undefined): RunStatus {
  if (!ended) return 'waiting';
  if (ended.type === 'run.continued') return 'continued';
  return ended.type === 'run.completed' ? 'completed' : ended.type === 'run.failed' ? 'failed' : 'cancelled';
}

function cancelled(event: JournalEvent<'run.cancelled'>): SerializedError {
  return {
    name: 'RunCancelledError',
    message: `The run was cancelled${event.payload.reason ? `: ${event.payload.reason}` : ''}.`,
    code: 'RUN_CANCELLED',
  };
}

function forksOf(run: RunRecord | undefined): Explanation['forks'] {
  const notes = run?.metadata.forkedTo;
  if (!Array.isArray(notes)) return [];
  return (notes as ForkNote[]).map((note) => ({
    runId: note.runId,
    seq: note.seq,
    at: note.at,
    by: note.by,
  }));
}

/** The largest seq in a node and everything under it. */
function lastSeqOf(node: ExplanationNode): number {
  return Math.max(node.seqs[node.seqs.length - 1] ?? 0, ...node.children.map(lastSeqOf));
}

/** Keeps what is at or after `seq` (with the nodes that hold it), and sums up what came before. */
function teleport(explanation: Explanation, events: readonly JournalEvent[], seq: number): void {
  const event = events.find((candidate) => candidate.seq === seq)!;
  const path: string[] = [];
  const find = (nodes: readonly ExplanationNode[]): boolean => {
    for (const node of nodes) {
      if (node.seqs.includes(seq)) {
        path.push(node.title);
        return true;
      }
      if (node.seqs[0]! <= seq && lastSeqOf(node) >= seq) {
        path.push(node.title);
        if (find(node.children)) return true;
        return true;
      }
    }
    return false;
  };
  find(explanation.nodes);
  const before = events.filter((candidate) => candidate.seq < seq);
  explanation.at = {
    seq,
    type: event.type,
    summary: brief(event.payload, 160),
    path,
    before: {
      events: before.length,
      costUsd: spend(deriveRunModel(before).costs).usd,
      turns: before.filter((candidate) => candidate.type === 'llm.called').length,
    },
  };
  const prune = (nodes: readonly ExplanationNode[]): ExplanationNode[] =>
    nodes
      .filter((node) => lastSeqOf(node) >= seq)
      .map((node) => ({ ...node, children: prune(node.children) }));
  explanation.nodes = prune(explanation.nodes);
}

/** Keeps `depth` levels; below, counts what was left out. */
function limitDepth(nodes: readonly ExplanationNode[], depth: number): ExplanationNode[] {
  const count = (node: ExplanationNode): number =>
    1 + node.children.reduce((sum, child) => sum + count(child), 0);
  return nodes.map((node) => {
    if (depth > 1) return { ...node, children: limitDepth(node.children, depth - 1) };
    const hidden = node.children.reduce((sum, child) => sum + count(child), 0) + (node.hidden ?? 0);
    return { ...node, children: [], ...(hidden > 0 ? { hidden } : {}) };
  });
}
