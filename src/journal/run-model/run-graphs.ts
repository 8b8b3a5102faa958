import type { JournalEvent, PartialFailurePolicy } from '../events.ts';

/**
 * The graphs a run drew, derived from its journal in this one place (the web UI's Graph tab, the
 * server's `GET /api/runs/{id}/graph` and `baton graph <run>` all read it): graph workflows, plans,
 * state machines, and the route, parallel and sequential patterns' shapes with their conditions on
 * the edges.
 */

export type NodeState = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'kept' | 'chosen';

export interface GraphState {
  name: string;
  nodes: { id: string; deps: string[]; state: NodeState; seq: number | undefined; label?: string }[];
  /** A heading above the graph: a plan's revision, a state machine. */
  title?: string;
  /** Why this revision replaced the one before it. */
  note?: string;
  /** Which pattern drew it, for a route, parallel or sequential pattern's graph. */
  pattern?: PatternKind;
  /** Edges drawn instead of `deps` (a state machine's, which may form cycles), with their labels. */
  edges?: { from: string; to: string; label: string }[];
}

type MachineState = GraphState & {
  edges: NonNullable<GraphState['edges']>;
  bounds: Map<string, number | undefined>;
};

/**
 * Each graph the run started, with every node's state and the event that shows it: graph workflows,
 * every revision of a plan made at run time (its tasks with whom they ran on, the tasks kept from an
 * earlier revision, what it replaced and why), state machines with the times each edge was taken, and
 * the route, parallel and sequential patterns: a router with its candidates (the chosen one marked, the
 * reason and scores on the edges), branches fanning out from a fork and joining, stages in a chain.
 */
export function graphStates(events: readonly JournalEvent[]): GraphState[] {
  const graphs: GraphState[] = [];
  const machines = new Map<string, MachineState>();
  for (const event of events) {
    switch (event.type) {
      case 'plan.decided':
        graphs.push(planGraph(event));
        break;
      case 'graph.started': {
        const { name, nodes } = event.payload;
        // A plan's revision is drawn from its plan.decided.
        if (graphs.some((candidate) => candidate.name === name && candidate.title && !candidate.edges)) break;
        graphs.push({
          name,
          nodes: nodes.map((item) => ({
            id: item.id,
            deps: [...item.deps],
            state: 'pending',
            seq: undefined,
          })),
        });
        break;
      }
      case 'machine.started': {
        const machine = machineGraph(event);
        machines.set(machine.name, machine);
        graphs.push(machine);
        break;
      }
      case 'machine.state.entered':
      case 'machine.transitioned':
      case 'machine.completed':
      case 'machine.failed': {
        const machine = machines.get(event.payload.name);
        if (machine) machineMoved(machine, event);
        break;
      }
      case 'graph.node.started':
      case 'graph.node.completed':
      case 'graph.node.failed':
      case 'graph.node.skipped': {
        const { graph, node } = event.payload;
        const entry = graphs
          .findLast((candidate) => candidate.name === graph)
          ?.nodes.find((candidate) => candidate.id === node);
        if (!entry) break;
        entry.seq ??= event.seq;
        entry.state = NODE_STATES[event.type];
        break;
      }
      default:
        patternMoved(graphs, event);
        break;
    }
  }
  return graphs.map((graph) => {
    const machine = machines.get(graph.name);
    if (machine !== graph) return graph;
    const { bounds: _bounds, ...drawn } = machine;
    return drawn;
  });
}

const NODE_STATES = {
  'graph.node.started': 'running',
  'graph.node.completed': 'completed',
  'graph.node.failed': 'failed',
  'graph.node.skipped': 'skipped',
} as const satisfies Record<string, NodeState>;

function planGraph(event: JournalEvent<'plan.decided'>): GraphState {
  const { name, revision, editedBy, replaces, kept, tasks } = event.payload;
  return {
    name: `${name}.r${revision}`,
    title: `plan ${name} · revision ${revision}${editedBy ? ` (edited by ${editedBy})` : ''}`,
    ...(replaces ? { note: `replaces revision ${replaces.revision}: ${replaces.reason}` } : {}),
    nodes: [
      ...kept.map((id) => ({ id, deps: [], state: 'kept' as const, seq: undefined })),
      ...tasks.map((task) => ({
        id: task.id,
        deps: [...task.deps],
        state: 'pending' as const,
        seq: undefined,
        label: `${task.id} → ${task.assigned}`,
      })),
    ],
  };
}

function machineGraph(event: JournalEvent<'machine.started'>): MachineState {
  const { name, initial, edges } = event.payload;
  const ids = [...new Set([initial, ...edges.flatMap((edge) => [edge.from, edge.to])])];
  return {
    name,
    title: `machine ${name}`,
    nodes: ids.map((id) => ({ id, deps: [], state: 'pending', seq: undefined })),
    edges: edges.map((edge) => ({
      from: edge.from,
      to: edge.to,
      label: edge.max === undefined ? '' : `0/${edge.max}`,
    })),
    bounds: new Map(edges.map((edge) => [`${edge.from}→${edge.to}`, edge.max])),
  };
}

function machineMoved(
  machine: MachineState,
  event: JournalEvent<
    'machine.state.entered' | 'machine.transitioned' | 'machine.completed' | 'machine.failed'
  >,
): void {
  const at = (id: string) => machine.nodes.find((candidate) => candidate.id === id);
  switch (event.type) {
    case 'machine.state.entered': {
      const entry = at(event.payload.state);
      if (!entry) return;
      entry.state = 'running';
      entry.seq = event.seq;
      entry.label = `${event.payload.state} ×${event.payload.visit}`;
      return;
    }
    case 'machine.transitioned': {
      const { from, to, taken } = event.payload;
      const source = at(from);
      if (source) source.state = 'completed';
      const edge = machine.edges.find((candidate) => candidate.from === from && candidate.to === to);
      const max = machine.bounds.get(`${from}→${to}`);
      if (edge) edge.label = max === undefined ? `×${taken}` : `${taken}/${max}`;
      return;
    }
    case 'machine.completed': {
      const final = at(event.payload.final);
      if (final) final.state = 'completed';
      return;
    }
    case 'machine.failed': {
      const failed = at(event.payload.state);
      if (failed) failed.state = 'failed';
      return;
    }
  }
}

// ---- route, parallel and sequential patterns --------------------------------------------------------

/** The patterns whose runs are drawn as graphs besides graph workflows, plans and machines. */
export type PatternKind = 'route' | 'parallel' | 'sequence';

/** The graphs of a run's route, parallel and sequential patterns only. */
export function patternGraphs(events: readonly JournalEvent[]): GraphState[] {
  return graphStates(events).filter((graph) => graph.pattern !== undefined);
}

type Drawn = GraphState & { edges: NonNullable<GraphState['edges']> };
type GraphNode = GraphState['nodes'][number];

/** A pattern's event: starts its graph or moves one already drawn. */
function patternMoved(graphs: GraphState[], event: JournalEvent): void {
  switch (event.type) {
    case 'route.decided':
    case 'route.failed':
      graphs.push(routeGraph(event));
      return;
    case 'parallel.started':
      graphs.push(parallelGraph(event));
      return;
    case 'parallel.branch.completed':
    case 'parallel.branch.failed': {
      const { parallel, branch } = event.payload;
      const entry = patternGraph(graphs, 'parallel', parallel)?.nodes.find(
        (node) => node.id === `${parallel}/${branch}`,
      );
      if (!entry) return;
      entry.state = event.type === 'parallel.branch.completed' ? 'completed' : 'failed';
      entry.seq = event.seq;
      return;
    }
    case 'parallel.completed':
    case 'parallel.failed':
      parallelJoined(patternGraph(graphs, 'parallel', event.payload.name), event);
      return;
    case 'sequence.started':
      graphs.push(sequenceGraph(event));
      return;
    case 'sequence.completed':
    case 'sequence.failed':
      sequenceEnded(patternGraph(graphs, 'sequence', event.payload.name), event);
      return;
    default:
      return;
  }
}

/** The latest graph a pattern of this kind and name drew. */
function patternGraph(graphs: GraphState[], kind: PatternKind, name: string): GraphState | undefined {
  return graphs.findLast((graph) => graph.name === name && graph.pattern === kind);
}

/**
 * A router and its candidates: the chosen route marked `chosen`, the others `skipped`; the edge to the
 * chosen one carries the journaled reason (and the fallback, when taken), every edge its candidate's
 * score or similarity. A failed route marks the router failed and says why in the note.
 */
function routeGraph(event: JournalEvent<'route.decided' | 'route.failed'>): Drawn {
  const { name, candidates, reason, decidedBy } = event.payload;
  const chosen = event.type === 'route.decided' ? event.payload.chosen : undefined;
  const fallback = event.type === 'route.decided' && event.payload.fallback === true;
  const names = candidates.map((candidate) => candidate.name);
  if (chosen !== undefined && !names.includes(chosen)) names.push(chosen);
  const router: GraphNode = {
    id: name,
    deps: [],
    state: chosen === undefined ? 'failed' : 'completed',
    seq: event.seq,
    label: `${name}${decidedBy ? ` · ${decidedBy}` : ''}`,
  };
  const routes = names.map((route): GraphNode => ({
    id: `${name}/${route}`,
    deps: [name],
    state: route === chosen ? 'chosen' : 'skipped',
    seq: route === chosen ? event.seq : undefined,
    label: route,
  }));
  const scoreOf = (route: string) => candidateScore(candidates.find((candidate) => candidate.name === route));
  return {
    name,
    title: `route ${name}`,
    pattern: 'route',
    ...(chosen === undefined ? { note: `no route chosen: ${reason}` } : {}),
    nodes: [router, ...routes],
    edges: names.map((route) => ({
      from: name,
      to: `${name}/${route}`,
      label: [route === chosen ? `${fallback ? 'fallback: ' : ''}${reason}` : '', scoreOf(route)]
        .filter((part) => part !== '')
        .join(' · '),
    })),
  };
}

/** A candidate's score, similarity or cost as journaled, or nothing. */
function candidateScore(
  candidate: { score?: number; similarity?: number; cost?: number; eligible?: boolean } | undefined,
): string {
  if (!candidate) return '';
  if (candidate.score !== undefined) return `score ${candidate.score}`;
  if (candidate.similarity !== undefined)
    return `similarity ${candidate.similarity}${candidate.eligible === false ? ' (below threshold)' : ''}`;
  if (candidate.cost !== undefined) return `cost ${candidate.cost}`;
  return '';
}

/** A fork, one node per branch, and a join; the join's edges say which branches succeeded. */
function parallelGraph(event: JournalEvent<'parallel.started'>): Drawn {
  const { name, branches, policy } = event.payload;
  const join = `${name}:join`;
  return {
    name,
    title: `parallel ${name}`,
    pattern: 'parallel',
    nodes: [
      { id: name, deps: [], state: 'completed', seq: event.seq, label: `${name} · fork` },
      ...branches.map((branch): GraphNode => ({
        id: `${name}/${branch}`,
        deps: [name],
        state: 'running',
        seq: undefined,
        label: branch,
      })),
      {
        id: join,
        deps: branches.map((branch) => `${name}/${branch}`),
        state: 'pending',
        seq: undefined,
        label: `${name} · join`,
      },
    ],
    edges: [
      ...branches.map((branch) => ({ from: name, to: `${name}/${branch}`, label: '' })),
      ...branches.map((branch) => ({ from: `${name}/${branch}`, to: join, label: '' })),
    ],
    note: `partial failure policy: ${policyText(policy)}`,
  };
}

function policyText(policy: PartialFailurePolicy): string {
  return typeof policy === 'string' ? policy : `at least ${policy.minSuccesses} must succeed`;
}

function parallelJoined(
  graph: GraphState | undefined,
  event: JournalEvent<'parallel.completed' | 'parallel.failed'>,
): void {
  if (!graph) return;
  const { name, succeeded, failed, reason } = event.payload;
  const join = graph.nodes.find((node) => node.id === `${name}:join`);
  if (join) {
    join.state = event.type === 'parallel.completed' ? 'completed' : 'failed';
    join.seq = event.seq;
  }
  for (const edge of graph.edges ?? []) {
    if (edge.to !== `${name}:join`) continue;
    const branch = edge.from.slice(name.length + 1);
    if (succeeded.includes(branch)) edge.label = 'succeeded';
    else if (failed.includes(branch)) edge.label = 'failed';
  }
  graph.note = `${graph.note ?? ''}${graph.note ? ' · ' : ''}${reason}`;
}

/** Stages in a chain, each fed the one before it. */
function sequenceGraph(event: JournalEvent<'sequence.started'>): Drawn {
  const { name, stages } = event.payload;
  const ids = stages.map((stage) => `${name}/${stage}`);
  return {
    name,
    title: `sequence ${name}`,
    pattern: 'sequence',
    nodes: stages.map((stage, index): GraphNode => ({
      id: ids[index]!,
      deps: index === 0 ? [] : [ids[index - 1]!],
      state: index === 0 ? 'running' : 'pending',
      seq: index === 0 ? event.seq : undefined,
      label: stage,
    })),
    edges: ids.slice(1).map((id, index) => ({ from: ids[index]!, to: id, label: 'then' })),
  };
}

/** A sequence's end: every stage completed, or those before the failed one completed and the rest skipped. */
function sequenceEnded(
  graph: GraphState | undefined,
  event: JournalEvent<'sequence.completed' | 'sequence.failed'>,
): void {
  if (!graph) return;
  const failedAt =
    event.type === 'sequence.failed'
      ? graph.nodes.findIndex((node) => node.id === `${event.payload.name}/${event.payload.stage}`)
      : -1;
  graph.nodes.forEach((node, index) => {
    if (failedAt === -1 || index < failedAt) node.state = 'completed';
    else if (index === failedAt) {
      node.state = 'failed';
      node.seq = event.seq;
    } else node.state = 'skipped';
  });
}
