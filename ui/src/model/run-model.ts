import type { JournalEvent } from '../../../src/journal/events.ts';
import { RunModelBuilder, type RunModelTouch } from '../../../src/journal/run-model/derive-run-model.ts';
import type { ItemState, RunModel } from '../../../src/journal/run-model/run-model.ts';

/**
 * What the run page draws, derived from the journal alone (so it works for runs written by any
 * worker, replayed or live): the timeline's bars in lanes, the execution tree, the graph's states.
 * Which agent, turn and call each event belongs to comes from the run model
 * (src/journal/run-model), the one derivation `baton explain`, the server and telemetry read too.
 */

export type { RunModel } from '../../../src/journal/run-model/run-model.ts';
export { deriveRunModel } from '../../../src/journal/run-model/derive-run-model.ts';
export { graphStates, type GraphState, type NodeState } from '../../../src/journal/run-model/run-graphs.ts';

export type ItemStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'denied' | 'skipped';
export type ItemKind =
  'agent' | 'model' | 'tool' | 'step' | 'node' | 'timer' | 'signal' | 'child' | 'approval';

export interface TimelineItem {
  /** The seq of the event that opened it: what the inspector shows. */
  seq: number;
  kind: ItemKind;
  label: string;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; undefined while it goes on. */
  end: number | undefined;
  status: ItemStatus;
  lane: number;
  /** The seq of the event that ended it (undefined while it goes on): journal order decides overlap when times tie. */
  endSeq: number | undefined;
}

export interface Timeline {
  items: TimelineItem[];
  lanes: number;
  start: number;
  end: number;
}

const time = (event: JournalEvent): number => Date.parse(event.at);

/** The model's state of an item as the UI shows it (a handoff ends an agent's part: completed). */
export function itemStatus(state: ItemState): ItemStatus {
  return state === 'handed-off' ? 'completed' : state;
}

/** Reads events through the run model: each with the parts of the model it touched. */
function* touched(events: readonly JournalEvent[]): Generator<[JournalEvent, RunModelTouch]> {
  const builder = new RunModelBuilder();
  for (const event of events) yield [event, builder.add(event)];
}

/** The key of the timeline bar an event belongs to: its call, approval, agent, or op. */
function barKey(event: JournalEvent, touch: RunModelTouch): string | undefined {
  if (event.type.startsWith('tool.') && touch.call) return touch.call.key;
  if (event.type.startsWith('approval.') && touch.approval) return `approval:${touch.approval.approvalId}`;
  if (event.type.startsWith('agent.') && touch.agent) return touch.agent.key;
  return touch.operation ? `op:${touch.operation.op}` : undefined;
}

/** The bars of the timeline, each in the first lane free at its start (so parallel work stacks up). */
export function buildTimeline(events: readonly JournalEvent[], now: number): Timeline {
  const items: TimelineItem[] = [];
  const open = new Map<string, TimelineItem>();
  const add = (
    event: JournalEvent,
    kind: ItemKind,
    label: string,
    start = time(event),
    end?: number,
    status: ItemStatus = 'running',
  ): TimelineItem => {
    const item: TimelineItem = {
      seq: event.seq,
      kind,
      label,
      start,
      end,
      status,
      lane: 0,
      endSeq: end === undefined ? undefined : event.seq,
    };
    items.push(item);
    return item;
  };
  const opened = (key: string | undefined, item: TimelineItem): void => {
    if (key !== undefined) open.set(key, item);
  };
  const close = (key: string | undefined, event: JournalEvent, status: ItemStatus): void => {
    const item = key === undefined ? undefined : open.get(key);
    if (!item || key === undefined) return;
    item.end = time(event);
    item.endSeq = event.seq;
    item.status = status;
    open.delete(key);
  };
  for (const [event, touch] of touched(events)) {
    const key = barKey(event, touch);
    switch (event.type) {
      case 'agent.started':
        opened(key, add(event, 'agent', `agent ${event.payload.name}`));
        break;
      case 'agent.completed':
      case 'agent.handedOff':
        close(key, event, 'completed');
        break;
      case 'agent.failed':
        close(key, event, 'failed');
        break;
      case 'llm.called':
        add(
          event,
          'model',
          `${event.payload.model} · turn ${event.payload.turn}`,
          time(event) - event.payload.latencyMs,
          time(event),
          'completed',
        );
        break;
      case 'llm.failed':
        add(event, 'model', `${event.payload.name} model call`, time(event), time(event), 'failed');
        break;
      case 'tool.requested':
        opened(key, add(event, 'tool', `tool ${event.payload.name}`));
        break;
      case 'tool.verdict': {
        const item = key === undefined ? undefined : open.get(key);
        if (!item) break;
        const { verdict, phase } = event.payload;
        if (verdict === 'park') item.status = 'waiting';
        else if (verdict === 'deny' && phase !== 'after') close(key, event, 'denied');
        else if (phase === 'decided') item.status = 'running';
        break;
      }
      case 'tool.called':
        close(key, event, 'completed');
        break;
      case 'tool.failed':
        close(key, event, 'failed');
        break;
      case 'tool.resolved':
        if (event.payload.action === 'skip') close(key, event, 'skipped');
        break;
      case 'step.completed':
        add(event, 'step', `step ${event.payload.name}`, time(event), time(event), 'completed');
        break;
      case 'step.failed':
        add(event, 'step', `step ${event.payload.name}`, time(event), time(event), 'failed');
        break;
      case 'timer.set':
        opened(
          key,
          add(event, 'timer', `sleep ${event.payload.name}`.trim(), time(event), undefined, 'waiting'),
        );
        break;
      case 'timer.fired':
        close(key, event, 'completed');
        break;
      case 'signal.awaited':
        opened(
          key,
          add(event, 'signal', `wait for ${event.payload.name}`, time(event), undefined, 'waiting'),
        );
        break;
      case 'signal.received':
        if (key !== undefined && open.has(key)) close(key, event, 'completed');
        else add(event, 'signal', `signal ${event.payload.name}`, time(event), time(event), 'completed');
        break;
      case 'signal.timedOut':
        close(key, event, 'failed');
        break;
      case 'child.started':
        opened(key, add(event, 'child', `child ${event.payload.workflow}`));
        break;
      case 'child.completed':
        close(key, event, 'completed');
        break;
      case 'child.failed':
        close(key, event, 'failed');
        break;
      case 'graph.node.started':
        opened(key, add(event, 'node', `node ${event.payload.node}`));
        break;
      case 'graph.node.completed':
        close(key, event, 'completed');
        break;
      case 'graph.node.failed':
        close(key, event, 'failed');
        break;
      case 'graph.node.skipped':
        if (key !== undefined && open.has(key)) close(key, event, 'skipped');
        else add(event, 'node', `node ${event.payload.node}`, time(event), time(event), 'skipped');
        break;
      case 'approval.requested':
        opened(
          key,
          add(event, 'approval', `approval ${event.payload.name}`, time(event), undefined, 'waiting'),
        );
        break;
      case 'approval.decided':
        close(key, event, event.payload.decision === 'approved' ? 'completed' : 'denied');
        break;
      default:
        break;
    }
  }
  return laidOut(items, events, now);
}

/** Lanes: agents first, then everything else, each in the first lane free at its start. */
function laidOut(items: TimelineItem[], events: readonly JournalEvent[], now: number): Timeline {
  const firstEvent = events[0];
  const lastEvent = events.at(-1);
  const first = firstEvent ? time(firstEvent) : now;
  const last = lastEvent ? time(lastEvent) : now;
  const terminal = ['run.completed', 'run.failed', 'run.cancelled', 'run.timedOut'].includes(
    lastEvent?.type ?? '',
  );
  const end = Math.max(terminal ? last : now, first + 1);
  // A lane is free for an item when its last item ended, in time and in the journal, before this one began.
  const laneEnds: { time: number; seq: number }[] = [];
  const order = [...items].sort((a, b) =>
    (a.kind === 'agent') === (b.kind === 'agent')
      ? a.start - b.start || a.seq - b.seq
      : a.kind === 'agent'
        ? -1
        : 1,
  );
  const minimum = (end - first) / 200; // a point still takes a sliver of its lane
  for (const item of order) {
    const finish = { time: Math.max(item.end ?? end, item.start + minimum), seq: item.endSeq ?? Infinity };
    let lane = laneEnds.findIndex((laneEnd) => laneEnd.time <= item.start && laneEnd.seq < item.seq);
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = finish;
    item.lane = lane;
  }
  return { items, lanes: laneEnds.length, start: first, end };
}

// ---- the execution tree --------------------------------------------------------------------------

export type TreeKind =
  | 'run'
  | 'agent'
  | 'turn'
  | 'model'
  | 'tool'
  | 'handoff'
  | 'approval'
  | 'step'
  | 'graph'
  | 'node'
  | 'child'
  | 'signal'
  | 'timer'
  | 'route'
  | 'verdict';

export interface TreeNode {
  id: string;
  kind: TreeKind;
  label: string;
  /** A second, quieter line: the model, the decision, the reason. */
  note?: string;
  /** The event the inspector shows for this node. */
  seq: number;
  status: ItemStatus;
  children: TreeNode[];
  /** For child runs: the child's run id. */
  link?: string;
}

/**
 * The execution tree: the run, its agents (and the agents they hand off to or call as tools),
 * each agent's turns, each turn's model call and the tool calls it asked for, and the approvals
 * and guardrail verdicts on those calls; the workflow's own steps, waits, children and graphs.
 * Where each agent, turn and call hangs is the run model's answer (a call by its agent and call id).
 */
export function buildTree(events: readonly JournalEvent[], runLabel: string): TreeNode {
  return new TreeBuilder(events, runLabel).root;
}

class TreeBuilder {
  readonly root: TreeNode;
  /** Nodes by the run model's keys: agents, turns, calls, approvals, handoffs, ops. */
  readonly #nodes = new Map<string, TreeNode>();
  readonly #graphs = new Map<string, TreeNode>();
  /** Parks the guard asked for show as its approval (approval.requested), not as a bare park too. */
  readonly #guardSignals: Set<string>;
  #counter = 0;

  constructor(events: readonly JournalEvent[], runLabel: string) {
    this.root = {
      id: 'run',
      kind: 'run',
      label: runLabel,
      seq: events[0]?.seq ?? 1,
      status: 'running',
      children: [],
    };
    this.#guardSignals = new Set(
      events.flatMap((event) => (event.type === 'approval.requested' ? [event.payload.signal] : [])),
    );
    for (const [event, touch] of touched(events)) this.#add(event, touch);
  }

  #node(kind: TreeKind, label: string, seq: number, status: ItemStatus = 'running', note?: string): TreeNode {
    return {
      id: `${kind}-${++this.#counter}`,
      kind,
      label,
      seq,
      status,
      children: [],
      ...(note === undefined ? {} : { note }),
    };
  }

  #at(key: string | undefined): TreeNode | undefined {
    return key === undefined ? undefined : this.#nodes.get(key);
  }

  #add(event: JournalEvent, touch: RunModelTouch): void {
    if (event.type.startsWith('agent.')) this.#agent(event, touch);
    else if (event.type.startsWith('llm.')) this.#turn(event, touch);
    else if (event.type.startsWith('tool.')) this.#tool(event, touch);
    else if (event.type.startsWith('approval.') || event.type === 'guard.verdict')
      this.#approval(event, touch);
    else this.#workflow(event, touch);
  }

  #agent(event: JournalEvent, touch: RunModelTouch): void {
    const agent = touch.agent;
    if (!agent) return;
    if (event.type === 'agent.started') {
      const node = this.#node('agent', `agent ${agent.name}`, event.seq, 'running', agent.model);
      const parent = agent.parent;
      const under =
        (agent.via === 'handoff' ? this.#at(`handoff:${parent?.agent ?? ''}`) : undefined) ??
        this.#at(parent?.turn) ??
        this.#at(parent?.agent) ??
        this.root;
      under.children.push(node);
      this.#nodes.set(agent.key, node);
      return;
    }
    const node = this.#at(agent.key);
    if (!node) return;
    node.status = itemStatus(agent.state);
    if (event.type === 'agent.completed')
      node.note = `${node.note ?? ''} · ${event.payload.turns} turn(s)`.replace(/^ · /, '');
    if (event.type === 'agent.handedOff') {
      const handoff = this.#node('handoff', `hand off to ${event.payload.to}`, event.seq, 'completed');
      const asking = touch.agent?.turns
        .map((key) => this.#at(key))
        .findLast((turn) => turn !== undefined && turn.seq < event.seq);
      (asking ?? node).children.push(handoff);
      this.#nodes.set(`handoff:${agent.key}`, handoff);
    }
  }

  #turn(event: JournalEvent, touch: RunModelTouch): void {
    const turn = touch.turn;
    if (!turn || (event.type !== 'llm.called' && event.type !== 'llm.failed')) return;
    let node = this.#at(turn.key);
    if (!node) {
      node = this.#node('turn', `turn ${turn.number}`, event.seq, 'completed');
      (this.#at(turn.agent) ?? this.root).children.push(node);
      this.#nodes.set(turn.key, node);
    }
    if (event.type === 'llm.called') {
      const { usage, model } = event.payload;
      node.children.push(
        this.#node(
          'model',
          `model ${model}`,
          event.seq,
          'completed',
          `${usage.inputTokens} in · ${usage.outputTokens} out`,
        ),
      );
    } else {
      node.children.push(
        this.#node('model', 'model call failed', event.seq, 'failed', event.payload.error.message),
      );
      node.status = 'failed';
    }
  }

  #tool(event: JournalEvent, touch: RunModelTouch): void {
    const call = touch.call;
    if (!call) return;
    if (event.type === 'tool.requested') {
      const node = this.#node(
        'tool',
        `tool ${event.payload.name}`,
        event.seq,
        'running',
        event.payload.effect,
      );
      (this.#at(call.turn) ?? this.#at(call.agent) ?? this.root).children.push(node);
      this.#nodes.set(call.key, node);
      return;
    }
    const node = this.#at(call.key);
    if (!node) return;
    switch (event.type) {
      case 'tool.verdict':
        this.#verdict(event, node, call.key);
        return;
      case 'tool.authorized':
        if (event.payload.decision === 'deny')
          node.children.push(
            this.#node('verdict', 'policy: deny', event.seq, 'denied', event.payload.reason),
          );
        return;
      case 'tool.called':
      case 'tool.failed':
      case 'tool.resolved':
        node.status = itemStatus(call.state);
        return;
      default:
        return;
    }
  }

  #verdict(event: JournalEvent<'tool.verdict'>, tool: TreeNode, callKey: string): void {
    const { verdict, phase, signal, interceptor, reason, data } = event.payload;
    if (verdict === 'park' && this.#guardSignals.has(String(signal))) {
      tool.status = 'waiting';
    } else if (phase === 'decided' && this.#guardSignals.has(interceptor.replace(/^signal:/, ''))) {
      tool.status = verdict === 'deny' ? 'denied' : 'running';
    } else if (verdict === 'park') {
      const approval = this.#node('approval', 'approval', event.seq, 'waiting', reason);
      tool.children.push(approval);
      tool.status = 'waiting';
      this.#nodes.set(`park:${callKey}`, approval);
    } else if (phase === 'decided') {
      const approval = this.#at(`park:${callKey}`);
      const by = typeof data?.by === 'string' ? ` by ${data.by}` : '';
      if (approval) {
        approval.status = verdict === 'deny' ? 'denied' : 'completed';
        approval.note = `${verdict === 'deny' ? 'denied' : 'approved'}${by}${verdict === 'rewrite' ? ' with edited arguments' : ''}`;
      }
      tool.status = verdict === 'deny' ? 'denied' : 'running';
    } else if (verdict !== 'allow') {
      tool.children.push(
        this.#node(
          'verdict',
          `${interceptor}: ${verdict}`,
          event.seq,
          verdict === 'deny' ? 'denied' : 'completed',
          reason,
        ),
      );
      if (verdict === 'deny' && phase !== 'after') tool.status = 'denied';
    }
  }

  #approval(event: JournalEvent, touch: RunModelTouch): void {
    const onCall = this.#at(touch.call?.key);
    switch (event.type) {
      case 'guard.verdict':
        if (event.payload.verdict !== 'pass')
          (onCall ?? this.root).children.push(
            this.#node(
              'verdict',
              `${event.payload.guardrail}: ${event.payload.verdict}`,
              event.seq,
              event.payload.verdict === 'block' ? 'denied' : 'completed',
              event.payload.reason,
            ),
          );
        return;
      case 'approval.requested': {
        const parent = onCall ?? this.root;
        const label = onCall ? 'approval' : `approval ${event.payload.name}`;
        const approval = this.#node('approval', label, event.seq, 'waiting', event.payload.summary);
        parent.children.push(approval);
        this.#nodes.set(`approval:${event.payload.approvalId}`, approval);
        if (onCall) onCall.status = 'waiting';
        return;
      }
      case 'approval.decided': {
        const approval = this.#at(`approval:${event.payload.approvalId}`);
        if (!approval) return;
        const { decision, by, args, comment } = event.payload;
        approval.status = decision === 'approved' ? 'completed' : 'denied';
        approval.note = `${decision} by ${by}${args !== undefined ? ' with edited arguments' : ''}${comment ? `: ${comment}` : ''}`;
        return;
      }
      default:
        return;
    }
  }

  /** The workflow's own ops: steps, waits, children, graphs, routes, and the run's end. */
  #workflow(event: JournalEvent, touch: RunModelTouch): void {
    const operation = touch.operation;
    const opKey = operation ? `op:${operation.op}` : undefined;
    const push = (parent: TreeNode, node: TreeNode): void => {
      parent.children.push(node);
      if (opKey !== undefined) this.#nodes.set(opKey, node);
    };
    const settle = (status: ItemStatus, kind?: TreeKind): void => {
      const node = this.#at(opKey);
      if (node && (kind === undefined || node.kind === kind)) node.status = status;
    };
    switch (event.type) {
      case 'step.completed':
      case 'step.failed': {
        const { name, attempt } = event.payload;
        const status = event.type === 'step.failed' ? 'failed' : 'completed';
        this.root.children.push(
          this.#node(
            'step',
            `step ${name}`,
            event.seq,
            status,
            attempt > 1 ? `attempt ${attempt}` : undefined,
          ),
        );
        return;
      }
      case 'timer.set':
        push(
          this.root,
          this.#node(
            'timer',
            `sleep ${event.payload.name}`.trim(),
            event.seq,
            'waiting',
            `until ${event.payload.fireAt}`,
          ),
        );
        return;
      case 'timer.fired':
        return settle('completed');
      case 'signal.awaited':
        push(this.root, this.#node('signal', `wait for ${event.payload.name}`, event.seq, 'waiting'));
        return;
      case 'signal.received':
        return settle('completed', 'signal');
      case 'signal.timedOut':
        return settle('failed', 'signal');
      case 'child.started': {
        const child = this.#node(
          'child',
          `child ${event.payload.workflow}`,
          event.seq,
          'running',
          event.payload.childRunId,
        );
        child.link = event.payload.childRunId;
        push(this.root, child);
        return;
      }
      case 'child.completed':
        return settle('completed');
      case 'child.failed':
        return settle('failed');
      case 'graph.started': {
        const graph = this.#node(
          'graph',
          `graph ${event.payload.name}`,
          event.seq,
          'running',
          `${event.payload.nodes.length} nodes`,
        );
        push(this.root, graph);
        this.#graphs.set(event.payload.name, graph);
        return;
      }
      case 'graph.node.started':
      case 'graph.node.skipped': {
        const skipped = event.type === 'graph.node.skipped';
        const reason = event.type === 'graph.node.skipped' ? event.payload.reason : undefined;
        push(
          this.#graphs.get(event.payload.graph) ?? this.root,
          this.#node(
            'node',
            `node ${event.payload.node}`,
            event.seq,
            skipped ? 'skipped' : 'running',
            reason,
          ),
        );
        return;
      }
      case 'graph.node.completed':
      case 'graph.completed':
        return settle('completed');
      case 'graph.node.failed':
      case 'graph.failed':
        return settle('failed');
      case 'route.decided':
        this.root.children.push(
          this.#node(
            'route',
            `route ${event.payload.name} → ${event.payload.chosen}`,
            event.seq,
            'completed',
            event.payload.reason,
          ),
        );
        return;
      case 'op.cancelled':
        this.root.children.push(
          this.#node(
            'step',
            `${event.payload.describe} cancelled`,
            event.seq,
            'skipped',
            event.payload.reason ?? event.payload.scope,
          ),
        );
        return;
      case 'run.completed':
        this.root.status = 'completed';
        return;
      case 'run.failed':
      case 'run.timedOut':
        this.root.status = 'failed';
        return;
      case 'run.cancelled':
        this.root.status = 'skipped';
        return;
      case 'run.resumed':
        this.root.status = 'running';
        return;
      default:
        return;
    }
  }
}

/** The run's current waits on signals a person could send (the run model's open signal waits). */
export function openWaits(model: RunModel): { signals: string[] } {
  return {
    signals: model.waits
      .filter((wait) => wait.open && wait.kind === 'signal' && !wait.name.startsWith('baton.'))
      .map((wait) => wait.name),
  };
}
