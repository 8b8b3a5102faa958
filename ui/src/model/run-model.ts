import type { JournalEvent } from '../../../src/journal/events.ts';

/**
 * What the run page draws, derived from the journal alone (so it works for runs written by any
 * worker, replayed or live): the timeline's bars in lanes, the execution tree, the graph's states.
 */

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

type Payload = Record<string, any>;
const payloadOf = (event: JournalEvent): Payload => event.payload;
const time = (event: JournalEvent): number => Date.parse(event.at);

/** The key that ties an op's later events to the item its first event opened. */
function itemKey(event: JournalEvent): string | undefined {
  const payload = payloadOf(event);
  if (typeof payload.op !== 'number') return undefined;
  if (event.type.startsWith('tool.') && typeof payload.callId === 'string')
    return `tool:${payload.op}:${payload.callId}`;
  if (event.type.startsWith('approval.')) return `approval:${payload.approvalId}`;
  if (event.type.startsWith('agent.')) return `agent:${payload.op}`;
  return `op:${payload.op}`;
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
  const close = (key: string | undefined, event: JournalEvent, status: ItemStatus): void => {
    const item = key === undefined ? undefined : open.get(key);
    if (!item) return;
    item.end = time(event);
    item.endSeq = event.seq;
    item.status = status;
    open.delete(key!);
  };
  for (const event of events) {
    const payload = payloadOf(event);
    const key = itemKey(event);
    switch (event.type) {
      case 'agent.started':
        open.set(key!, add(event, 'agent', `agent ${payload.name}`));
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
          `${payload.model} · turn ${payload.turn}`,
          time(event) - (payload.latencyMs ?? 0),
          time(event),
          'completed',
        );
        break;
      case 'llm.failed':
        add(event, 'model', `${payload.name} model call`, time(event), time(event), 'failed');
        break;
      case 'tool.requested':
        open.set(key!, add(event, 'tool', `tool ${payload.name}`));
        break;
      case 'tool.verdict': {
        const item = open.get(key!);
        if (!item) break;
        if (payload.verdict === 'park') item.status = 'waiting';
        else if (payload.verdict === 'deny' && payload.phase !== 'after') close(key, event, 'denied');
        else if (payload.phase === 'decided') item.status = 'running';
        break;
      }
      case 'tool.called':
        close(key, event, 'completed');
        break;
      case 'tool.failed':
        close(key, event, 'failed');
        break;
      case 'tool.resolved':
        if (payload.action === 'skip') close(key, event, 'skipped');
        break;
      case 'step.completed':
        add(event, 'step', `step ${payload.name}`, time(event), time(event), 'completed');
        break;
      case 'step.failed':
        add(event, 'step', `step ${payload.name}`, time(event), time(event), 'failed');
        break;
      case 'timer.set':
        open.set(
          key!,
          add(event, 'timer', `sleep ${payload.name ?? ''}`.trim(), time(event), undefined, 'waiting'),
        );
        break;
      case 'timer.fired':
        close(key, event, 'completed');
        break;
      case 'signal.awaited':
        open.set(key!, add(event, 'signal', `wait for ${payload.name}`, time(event), undefined, 'waiting'));
        break;
      case 'signal.received':
        if (open.has(key!)) close(key, event, 'completed');
        else add(event, 'signal', `signal ${payload.name}`, time(event), time(event), 'completed');
        break;
      case 'signal.timedOut':
        close(key, event, 'failed');
        break;
      case 'child.started':
        open.set(key!, add(event, 'child', `child ${payload.workflow}`));
        break;
      case 'child.completed':
        close(key, event, 'completed');
        break;
      case 'child.failed':
        close(key, event, 'failed');
        break;
      case 'graph.node.started':
        open.set(key!, add(event, 'node', `node ${payload.node}`));
        break;
      case 'graph.node.completed':
        close(key, event, 'completed');
        break;
      case 'graph.node.failed':
        close(key, event, 'failed');
        break;
      case 'graph.node.skipped':
        if (open.has(key!)) close(key, event, 'skipped');
        else add(event, 'node', `node ${payload.node}`, time(event), time(event), 'skipped');
        break;
      case 'approval.requested':
        open.set(key!, add(event, 'approval', `approval ${payload.name}`, time(event), undefined, 'waiting'));
        break;
      case 'approval.decided':
        close(key, event, payload.decision === 'approved' ? 'completed' : 'denied');
        break;
    }
  }
  const first = events[0] ? time(events[0]) : now;
  const last = events.at(-1) ? time(events.at(-1)!) : now;
  const terminal = ['run.completed', 'run.failed', 'run.cancelled', 'run.timedOut'].includes(
    events.at(-1)?.type ?? '',
  );
  const end = Math.max(terminal ? last : now, first + 1);
  // Lanes: agents first, then everything else, each in the first lane free at its start: one whose
  // last item ended, in time and in the journal, before this one began.
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
 */
export function buildTree(events: readonly JournalEvent[], runLabel: string): TreeNode {
  const first = events[0];
  const root: TreeNode = {
    id: 'run',
    kind: 'run',
    label: runLabel,
    seq: first?.seq ?? 1,
    status: 'running',
    children: [],
  };
  const byKey = new Map<string, TreeNode>();
  /** Open agent invocations by agent name, innermost last. */
  const openAgents = new Map<string, TreeNode[]>();
  /**
   * Turn nodes by `agentNodeId:turn`, and the turn that asked for each tool call. Providers number
   * call ids per conversation, so parallel agents reuse them: a call is named by its agent and id.
   */
  const turns = new Map<string, TreeNode>();
  const turnOfCall = new Map<string, TreeNode>();
  const callKey = (agent: string | undefined, callId: string | undefined) =>
    `${agent ?? ''}\u0000${callId ?? ''}`;
  const handoffs = new Map<string, TreeNode>();
  const graphs = new Map<string, TreeNode>();
  const byOp = new Map<number, TreeNode>();
  // Parks the guard asked for show as its approval (approval.requested), not as a bare park too.
  const guardSignals = new Set(
    events
      .filter((event) => event.type === 'approval.requested')
      .map((event) => String(payloadOf(event).signal)),
  );
  let counter = 0;
  const node = (
    kind: TreeKind,
    label: string,
    seq: number,
    status: ItemStatus = 'running',
    note?: string,
  ): TreeNode => ({
    id: `${kind}-${++counter}`,
    kind,
    label,
    seq,
    status,
    children: [],
    ...(note === undefined ? {} : { note }),
  });
  const currentAgent = (name: string): TreeNode | undefined => openAgents.get(name)?.at(-1);

  for (const event of events) {
    const payload = payloadOf(event);
    const key = itemKey(event);
    switch (event.type) {
      case 'agent.started': {
        const agent = node('agent', `agent ${payload.name}`, event.seq, 'running', payload.model);
        let parent: TreeNode = root;
        const call = callKey(payload.from, payload.callId);
        if (payload.via === 'handoff' && payload.callId && handoffs.has(call)) parent = handoffs.get(call)!;
        else if (payload.via === 'tool' && payload.callId && turnOfCall.has(call))
          parent = turnOfCall.get(call)!;
        else if (payload.from && currentAgent(payload.from)) parent = currentAgent(payload.from)!;
        parent.children.push(agent);
        byKey.set(key!, agent);
        openAgents.set(payload.name, [...(openAgents.get(payload.name) ?? []), agent]);
        break;
      }
      case 'agent.completed':
      case 'agent.failed':
      case 'agent.handedOff': {
        const agent = byKey.get(key!);
        if (!agent) break;
        agent.status = event.type === 'agent.failed' ? 'failed' : 'completed';
        if (event.type === 'agent.completed')
          agent.note = `${agent.note ?? ''} · ${payload.turns} turn(s)`.replace(/^ · /, '');
        const stack = openAgents.get(payload.name) ?? [];
        openAgents.set(
          payload.name,
          stack.filter((candidate) => candidate !== agent),
        );
        if (event.type === 'agent.handedOff') {
          const handoff = node('handoff', `hand off to ${payload.to}`, event.seq, 'completed');
          const call = callKey(payload.name, payload.callId);
          (turnOfCall.get(call) ?? agent).children.push(handoff);
          handoffs.set(call, handoff);
        }
        break;
      }
      case 'llm.called':
      case 'llm.failed': {
        const agent = currentAgent(payload.name);
        const parent = agent ?? root;
        const turnNumber =
          payload.turn ?? parent.children.filter((child) => child.kind === 'turn').length + 1;
        const turnKey = `${parent.id}:${turnNumber}`;
        let turn = turns.get(turnKey);
        if (!turn) {
          turn = node('turn', `turn ${turnNumber}`, event.seq, 'completed');
          turns.set(turnKey, turn);
          parent.children.push(turn);
        }
        const failed = event.type === 'llm.failed';
        const usage = payload.usage
          ? `${payload.usage.inputTokens} in · ${payload.usage.outputTokens} out`
          : undefined;
        turn.children.push(
          node(
            'model',
            failed ? 'model call failed' : `model ${payload.model}`,
            event.seq,
            failed ? 'failed' : 'completed',
            failed ? payload.error?.message : usage,
          ),
        );
        if (failed) turn.status = 'failed';
        for (const call of payload.response?.toolCalls ?? [])
          turnOfCall.set(callKey(payload.name, call.callId), turn);
        break;
      }
      case 'tool.requested': {
        const tool = node('tool', `tool ${payload.name}`, event.seq, 'running', payload.effect);
        const parent =
          turnOfCall.get(callKey(payload.agent, payload.callId)) ??
          (payload.agent ? currentAgent(payload.agent) : undefined) ??
          root;
        parent.children.push(tool);
        byKey.set(key!, tool);
        byOp.set(payload.op, tool);
        break;
      }
      case 'tool.verdict': {
        const tool = byKey.get(key!);
        if (!tool) break;
        if (payload.verdict === 'park' && guardSignals.has(String(payload.signal))) {
          tool.status = 'waiting';
        } else if (
          payload.phase === 'decided' &&
          guardSignals.has(String(payload.interceptor).replace(/^signal:/, ''))
        ) {
          tool.status = payload.verdict === 'deny' ? 'denied' : 'running';
        } else if (payload.verdict === 'park') {
          const approval = node('approval', 'approval', event.seq, 'waiting', payload.reason);
          tool.children.push(approval);
          tool.status = 'waiting';
          byKey.set(`park:${key}`, approval);
        } else if (payload.phase === 'decided') {
          const approval = byKey.get(`park:${key}`);
          const by = typeof payload.data?.by === 'string' ? ` by ${payload.data.by}` : '';
          if (approval) {
            approval.status = payload.verdict === 'deny' ? 'denied' : 'completed';
            approval.note = `${payload.verdict === 'deny' ? 'denied' : 'approved'}${by}${payload.verdict === 'rewrite' ? ' with edited arguments' : ''}`;
          }
          tool.status = payload.verdict === 'deny' ? 'denied' : 'running';
        } else if (payload.verdict !== 'allow') {
          tool.children.push(
            node(
              'verdict',
              `${payload.interceptor}: ${payload.verdict}`,
              event.seq,
              payload.verdict === 'deny' ? 'denied' : 'completed',
              payload.reason,
            ),
          );
          if (payload.verdict === 'deny' && payload.phase !== 'after') tool.status = 'denied';
        }
        break;
      }
      case 'tool.authorized': {
        const tool = byOp.get(payload.op);
        if (tool && payload.decision === 'deny')
          tool.children.push(node('verdict', `policy: deny`, event.seq, 'denied', payload.reason));
        break;
      }
      case 'guard.verdict': {
        const target = byOp.get(payload.op) ?? root;
        if (payload.verdict !== 'pass')
          target.children.push(
            node(
              'verdict',
              `${payload.guardrail}: ${payload.verdict}`,
              event.seq,
              payload.verdict === 'block' ? 'denied' : 'completed',
              payload.reason,
            ),
          );
        break;
      }
      case 'tool.called':
      case 'tool.failed':
      case 'tool.resolved': {
        const tool = byKey.get(key!);
        if (!tool) break;
        tool.status =
          event.type === 'tool.called'
            ? 'completed'
            : event.type === 'tool.failed'
              ? 'failed'
              : payload.action === 'skip'
                ? 'skipped'
                : 'running';
        break;
      }
      case 'approval.requested': {
        const parent = byOp.get(payload.op) ?? root;
        const approval = node(
          'approval',
          parent.kind === 'tool' ? 'approval' : `approval ${payload.name}`,
          event.seq,
          'waiting',
          payload.summary,
        );
        parent.children.push(approval);
        byKey.set(key!, approval);
        if (parent.kind === 'tool') parent.status = 'waiting';
        break;
      }
      case 'approval.decided': {
        const approval = byKey.get(key!);
        if (!approval) break;
        approval.status = payload.decision === 'approved' ? 'completed' : 'denied';
        approval.note = `${payload.decision} by ${payload.by}${payload.args !== undefined ? ' with edited arguments' : ''}${payload.comment ? `: ${payload.comment}` : ''}`;
        break;
      }
      case 'step.completed':
      case 'step.failed':
        root.children.push(
          node(
            'step',
            `step ${payload.name}`,
            event.seq,
            event.type === 'step.failed' ? 'failed' : 'completed',
            payload.attempt > 1 ? `attempt ${payload.attempt}` : undefined,
          ),
        );
        break;
      case 'timer.set': {
        const timer = node(
          'timer',
          `sleep ${payload.name ?? ''}`.trim(),
          event.seq,
          'waiting',
          `until ${payload.fireAt}`,
        );
        root.children.push(timer);
        byOp.set(payload.op, timer);
        break;
      }
      case 'timer.fired': {
        const timer = byOp.get(payload.op);
        if (timer) timer.status = 'completed';
        break;
      }
      case 'signal.awaited': {
        const wait = node('signal', `wait for ${payload.name}`, event.seq, 'waiting');
        root.children.push(wait);
        byOp.set(payload.op, wait);
        break;
      }
      case 'signal.received':
      case 'signal.timedOut': {
        const wait = byOp.get(payload.op);
        if (wait?.kind === 'signal') wait.status = event.type === 'signal.received' ? 'completed' : 'failed';
        break;
      }
      case 'child.started': {
        const child = node('child', `child ${payload.workflow}`, event.seq, 'running', payload.childRunId);
        child.link = payload.childRunId;
        root.children.push(child);
        byOp.set(payload.op, child);
        break;
      }
      case 'child.completed':
      case 'child.failed': {
        const child = byOp.get(payload.op);
        if (child) child.status = event.type === 'child.completed' ? 'completed' : 'failed';
        break;
      }
      case 'graph.started': {
        const graph = node(
          'graph',
          `graph ${payload.name}`,
          event.seq,
          'running',
          `${payload.nodes.length} nodes`,
        );
        root.children.push(graph);
        graphs.set(payload.name, graph);
        byOp.set(payload.op, graph);
        break;
      }
      case 'graph.node.started':
      case 'graph.node.skipped': {
        const graph = graphs.get(payload.graph) ?? root;
        const child = node(
          'node',
          `node ${payload.node}`,
          event.seq,
          event.type === 'graph.node.skipped' ? 'skipped' : 'running',
          payload.reason,
        );
        graph.children.push(child);
        byOp.set(payload.op, child);
        break;
      }
      case 'graph.node.completed':
      case 'graph.node.failed': {
        const child = byOp.get(payload.op);
        if (child) child.status = event.type === 'graph.node.completed' ? 'completed' : 'failed';
        break;
      }
      case 'graph.completed':
      case 'graph.failed': {
        const graph = byOp.get(payload.op);
        if (graph) graph.status = event.type === 'graph.completed' ? 'completed' : 'failed';
        break;
      }
      case 'route.decided':
        root.children.push(
          node('route', `route ${payload.name} → ${payload.chosen}`, event.seq, 'completed', payload.reason),
        );
        break;
      case 'run.completed':
        root.status = 'completed';
        break;
      case 'run.failed':
        root.status = 'failed';
        break;
      case 'run.cancelled':
        root.status = 'skipped';
        break;
      case 'run.timedOut':
        root.status = 'failed';
        break;
      case 'run.resumed':
        root.status = 'running';
        break;
      case 'op.cancelled':
        root.children.push(
          node(
            'step',
            `${payload.describe} cancelled`,
            event.seq,
            'skipped',
            payload.reason ?? payload.scope,
          ),
        );
        break;
    }
  }
  return root;
}

// ---- graphs -----------------------------------------------------------------------------------------

export type NodeState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'kept';

export interface GraphState {
  name: string;
  nodes: { id: string; deps: string[]; state: NodeState; seq: number | undefined; label?: string }[];
  /** A heading above the graph: a plan's revision, a state machine. */
  title?: string;
  /** Why this revision replaced the one before it. */
  note?: string;
  /** Edges drawn instead of `deps` (a state machine's, which may form cycles), with their labels. */
  edges?: { from: string; to: string; label: string }[];
}

/**
 * Each graph the run started, with every node's state and the event that shows it: graph workflows,
 * every revision of a plan made at run time (its tasks with whom they ran on, the tasks kept from an
 * earlier revision, what it replaced and why), and state machines with the times each edge was taken.
 */
export function graphStates(events: readonly JournalEvent[]): GraphState[] {
  const graphs: GraphState[] = [];
  const machines = new Map<string, GraphState & { bounds: Map<string, number | undefined> }>();
  for (const event of events) {
    const payload = payloadOf(event);
    if (event.type === 'plan.decided') {
      const kept: string[] = payload.kept;
      graphs.push({
        name: `${payload.name}.r${payload.revision}`,
        title: `plan ${payload.name} · revision ${payload.revision}${payload.editedBy ? ` (edited by ${payload.editedBy})` : ''}`,
        ...(payload.replaces
          ? { note: `replaces revision ${payload.replaces.revision}: ${payload.replaces.reason}` }
          : {}),
        nodes: [
          ...kept.map((id) => ({ id, deps: [], state: 'kept', seq: undefined })),
          ...payload.tasks.map((task: { id: string; deps: string[]; assigned: string }) => ({
            id: task.id,
            deps: [...task.deps],
            state: 'pending' as NodeState,
            seq: undefined,
            label: `${task.id} → ${task.assigned}`,
          })),
        ],
      });
      continue;
    }
    if (event.type === 'graph.started') {
      if (graphs.some((candidate) => candidate.name === payload.name && candidate.title && !candidate.edges))
        continue; // a plan's revision, drawn from its plan.decided
      graphs.push({
        name: payload.name,
        nodes: payload.nodes.map((item: { id: string; deps: string[] }) => ({
          id: item.id,
          deps: [...item.deps],
          state: 'pending',
          seq: undefined,
        })),
      });
      continue;
    }
    if (event.type === 'machine.started') {
      const edges: { from: string; to: string; max?: number }[] = payload.edges;
      const ids = [...new Set([payload.initial, ...edges.flatMap((edge) => [edge.from, edge.to])])];
      const machine: GraphState & { bounds: Map<string, number | undefined> } = {
        name: payload.name,
        title: `machine ${payload.name}`,
        nodes: ids.map((id) => ({ id, deps: [], state: 'pending', seq: undefined })),
        edges: edges.map((edge) => ({
          from: edge.from,
          to: edge.to,
          label: edge.max === undefined ? '' : `0/${edge.max}`,
        })),
        bounds: new Map(edges.map((edge) => [`${edge.from}→${edge.to}`, edge.max])),
      };
      machines.set(payload.name, machine);
      graphs.push(machine);
      continue;
    }
    if (event.type.startsWith('machine.')) {
      const machine = machines.get(payload.name);
      if (!machine) continue;
      const at = (id: string) => machine.nodes.find((candidate) => candidate.id === id);
      if (event.type === 'machine.state.entered') {
        const entry = at(payload.state);
        if (entry) {
          entry.state = 'running';
          entry.seq = event.seq;
          entry.label = `${payload.state} ×${payload.visit}`;
        }
      } else if (event.type === 'machine.transitioned') {
        const from = at(payload.from);
        if (from) from.state = 'completed';
        const edge = machine.edges!.find(
          (candidate) => candidate.from === payload.from && candidate.to === payload.to,
        );
        const max = machine.bounds.get(`${payload.from}→${payload.to}`);
        if (edge) edge.label = max === undefined ? `×${payload.taken}` : `${payload.taken}/${max}`;
      } else if (event.type === 'machine.completed') {
        const final = at(payload.final);
        if (final) final.state = 'completed';
      } else if (event.type === 'machine.failed') {
        const failed = at(payload.state);
        if (failed) failed.state = 'failed';
      }
      continue;
    }
    if (!event.type.startsWith('graph.node.')) continue;
    const graph = graphs.findLast((candidate) => candidate.name === payload.graph);
    const entry = graph?.nodes.find((candidate) => candidate.id === payload.node);
    if (!entry) continue;
    entry.seq ??= event.seq;
    entry.state =
      event.type === 'graph.node.started' ? 'running' : (event.type.slice('graph.node.'.length) as NodeState);
  }
  return graphs.map((graph) => {
    if (!machines.has(graph.name) || !graph.edges) return graph;
    const { bounds: _bounds, ...machine } = graph as GraphState & { bounds?: unknown };
    return machine;
  });
}

/** The run's current waits: what a person could act on. */
export function openWaits(events: readonly JournalEvent[]): { signals: string[] } {
  const awaited = new Map<number, string>();
  for (const event of events) {
    const payload = payloadOf(event);
    if (event.type === 'signal.awaited') awaited.set(payload.op, payload.name);
    if (event.type === 'signal.received' || event.type === 'signal.timedOut') awaited.delete(payload.op);
  }
  return { signals: [...awaited.values()].filter((name) => !name.startsWith('baton.')) };
}
