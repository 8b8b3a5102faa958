import { InvalidArgumentError, RunNotFoundError, type SerializedError } from '../errors.ts';
import { eventOp, type JournalEvent } from '../journal/events.ts';
import type { ForkNote, RunRecord, RunStatus, Store, TenantScope } from '../store/store.ts';
import { agentNode, toolNode, turnNode, type TurnMemory } from './agent-nodes.ts';
import type { Explanation, ExplanationNode } from './explanation.ts';
import { brief } from './message-text.ts';
import { between, first, last, NodeContext, type Payload } from './node-context.ts';
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
  const nodes = buildTree(events, context);
  const ended = events.find(
    (event) =>
      event.type === 'run.completed' ||
      event.type === 'run.failed' ||
      event.type === 'run.cancelled' ||
      event.type === 'run.continued',
  );
  const cost = spend(events);
  const run = options.run;
  const explanation: Explanation = {
    runId: started.runId,
    workflow: started.payload.workflow,
    status: run?.status ?? statusOf(ended),
    tenant: run?.tenant ?? 'default',
    principal: run?.principal ?? started.actor,
    input: started.payload.input,
    ...(ended?.type === 'run.completed'
      ? { result: (ended.payload as Payload<'run.completed'>).result }
      : {}),
    ...(ended?.type === 'run.failed' ? { error: (ended.payload as Payload<'run.failed'>).error } : {}),
    ...(ended?.type === 'run.cancelled' ? { error: cancelled(ended as JournalEvent<'run.cancelled'>) } : {}),
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
 * them); ops that began inside a pattern go under the pattern.
 */
function buildTree(events: readonly JournalEvent[], context: NodeContext): ExplanationNode[] {
  const groups = new Map<number, JournalEvent[]>();
  const loose: JournalEvent[] = [];
  for (const event of events) {
    const op = eventOp(event);
    if (op === undefined) {
      loose.push(event);
      continue;
    }
    let group = groups.get(op);
    if (!group) groups.set(op, (group = []));
    group.push(event);
  }
  const entries: { seq: number; events: JournalEvent[] }[] = [...groups.values()].map((group) => ({
    seq: group[0]!.seq,
    events: group,
  }));
  for (const event of loose) {
    if (event.type === 'run.forked' || event.type === 'pool.breaker.opened')
      entries.push({ seq: event.seq, events: [event] });
  }
  entries.sort((a, b) => a.seq - b.seq);

  const top: ExplanationNode[] = [];
  const containers: Container[] = [];
  for (const { events: group } of entries) {
    const head = group[0]!;
    const prefix = head.type.slice(0, head.type.indexOf('.'));
    const lastSeq = group[group.length - 1]!.seq;
    if (prefix === 'agent') {
      const node = agentNode(group, context);
      const started = first(group, 'agent.started');
      const handedOff = first(group, 'agent.handedOff');
      // An agent handed the conversation goes on with it: what the agent before it saw is not new to it.
      const from =
        started?.payload.via === 'handoff' && started.payload.from !== undefined
          ? lastAgent(containers, started.payload.from, head.seq)
          : undefined;
      const container: Container = {
        node,
        kind: 'agent',
        name: started?.payload.name ?? String((head.payload as { name?: unknown }).name),
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
        started?.payload.via === 'tool'
          ? agentParent(containers, started.payload.from, head.seq, started.payload.callId)
          : patternParent(containers, head.seq);
      (parent?.children ?? top).push(node);
      containers.push(container);
      continue;
    }
    const owner = head.actor.startsWith('agent:')
      ? openAgent(containers, head.actor.slice('agent:'.length), head.seq)
      : undefined;
    if (prefix === 'llm' && owner) {
      const node = turnNode(group, context, owner.memory!);
      owner.node.children.push(node);
      owner.turns!.push(node);
      continue;
    }
    let node: ExplanationNode;
    if (group.length === 1 && (head.type === 'run.forked' || head.type === 'pool.breaker.opened'))
      node = runNode(head, context);
    else if (prefix === 'llm') node = turnNode(group, context, { seen: new Set() });
    else if (prefix === 'tool') node = toolNode(group, context);
    else node = opNode(group, context);
    const callId = (head.payload as { callId?: unknown }).callId;
    const parent = owner
      ? turnOf(owner, typeof callId === 'string' ? callId : undefined, head.seq)
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
    for (const turn of container.turns ?? [])
      turn.children.sort((a, b) => (a.op ?? Infinity) - (b.op ?? Infinity) || a.seqs[0]! - b.seqs[0]!);
  }
  return top;
}

function isOpen(container: Container, seq: number): boolean {
  return container.firstSeq < seq && (!container.ended || seq <= container.lastSeq);
}

/** The latest agent of that name that began before `seq`. */
function lastAgent(containers: readonly Container[], name: string, seq: number): Container | undefined {
  return containers.findLast(
    (container) => container.kind === 'agent' && container.name === name && container.firstSeq < seq,
  );
}

/** A run-level event worth a node: the fork point, a pool's breaker opening. */
function runNode(event: JournalEvent, context: NodeContext): ExplanationNode {
  if (event.type === 'run.forked') {
    const payload = event.payload as Payload<'run.forked'>;
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
  const payload = event.payload as Payload<'pool.breaker.opened'>;
  const node = context.node('other', `pool ${payload.pool}: breaker opened`, [event], 'failed');
  node.outcome = {
    summary: `on ${payload.what}: ${payload.error.message}; half-open after ${payload.halfOpenAfterMs} ms`,
    error: payload.error,
  };
  return node;
}

/** The innermost agent of that name whose loop holds `seq`. */
function openAgent(containers: readonly Container[], name: string, seq: number): Container | undefined {
  for (let index = containers.length - 1; index >= 0; index--) {
    const container = containers[index]!;
    if (container.kind === 'agent' && container.name === name && isOpen(container, seq)) return container;
  }
  return undefined;
}

/** Where a sub-agent called as a tool goes: under the caller's turn that asked for it. */
function agentParent(
  containers: readonly Container[],
  from: string | undefined,
  seq: number,
  callId: string | undefined,
): ExplanationNode | undefined {
  const caller = from === undefined ? undefined : openAgent(containers, from, seq);
  return caller ? turnOf(caller, callId, seq) : patternParent(containers, seq);
}

/** The agent's turn whose reply made the call `callId`; else its latest turn; else the agent. */
function turnOf(agent: Container, callId: string | undefined, seq: number): ExplanationNode {
  const turns = agent.turns ?? [];
  if (callId !== undefined) {
    const asking = turns.find(
      (turn) =>
        turn.decided?.kind === 'tool-calls' && turn.decided.calls.some((call) => call.callId === callId),
    );
    if (asking) return asking;
  }
  const before = turns.filter((turn) => turn.seqs[0]! < seq).at(-1);
  return before ?? agent.node;
}

/** The innermost pattern (sequence, parallel, graph) that holds `seq`. */
function patternParent(containers: readonly Container[], seq: number): ExplanationNode | undefined {
  for (let index = containers.length - 1; index >= 0; index--) {
    const container = containers[index]!;
    if (container.kind === 'pattern' && isOpen(container, seq)) return container.node;
  }
  return undefined;
}

/** Model spend: each `llm.called` and each `model.attempted` (with its judge) once. */
function spend(events: readonly JournalEvent[]): { usd: number; inputTokens: number; outputTokens: number } {
  const total = { usd: 0, inputTokens: 0, outputTokens: 0 };
  for (const event of events) {
    if (event.type === 'llm.called') {
      const payload = event.payload as Payload<'llm.called'>;
      total.usd += payload.cost.usd;
      total.inputTokens += payload.usage.inputTokens;
      total.outputTokens += payload.usage.outputTokens;
    } else if (event.type === 'model.attempted') {
      const payload = event.payload as Payload<'model.attempted'>;
      total.usd += payload.costUsd + (payload.verdict?.judge?.costUsd ?? 0);
      total.inputTokens += payload.usage.inputTokens + (payload.verdict?.judge?.usage.inputTokens ?? 0);
      total.outputTokens += payload.usage.outputTokens + (payload.verdict?.judge?.usage.outputTokens ?? 0);
    }
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
      costUsd: spend(before).usd,
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
