import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { BatonError, serializeError, type SerializedError } from '../errors.ts';
import type { JournalEvent } from '../journal/events.ts';
import type { Graph, GraphNode, GraphResult } from './graph-types.ts';
import { GraphFailedError } from './pattern-errors.ts';
import { isNonDeterminism, outcomeDiverged, recordedEvent, reserveOperation } from './runnable.ts';

type NodeStatus = 'waiting' | 'deciding' | 'running' | 'completed' | 'skipped' | 'failed';

type Decision = { kind: 'start' } | { kind: 'skip'; reason: string };

/**
 * Runs a graph inside a workflow: a small scheduler over the graph's nodes.
 *
 * Every op the graph journals is taken up front (the graph's own, then one per node in
 * topological order), so op numbers do not depend on the order nodes finish in. A node is
 * decided — started, or skipped with its reason — as soon as its dependencies are done.
 *
 * Replay: the journaled decisions are applied in the order they were journaled (their seq), so
 * nodes start again in the order they first started and `when` is not evaluated again; nodes with
 * no journaled decision are decided live, after all journaled ones.
 */
export function runGraph<Input, Context extends WorkflowContext>(
  graph: Graph<Input, Context>,
  ctx: Context,
  input: Input,
): Promise<GraphResult> {
  const ops = [
    reserveOperation(ctx, `graph:${graph.name}`),
    ...graph.nodes.map((node) => reserveOperation(ctx, `graph:${graph.name}/${node.id}`)),
  ];
  return Promise.all(ops).then(([graphOp, ...nodeOps]) =>
    new GraphRun(graph, ctx, input, graphOp!, nodeOps).start(),
  );
}

class GraphRun<Input, Context extends WorkflowContext> {
  readonly #graph: Graph<Input, Context>;
  readonly #ctx: Context;
  readonly #input: Input;
  readonly #op: OperationHandle;
  readonly #nodeOps = new Map<string, OperationHandle>();
  readonly #status = new Map<string, NodeStatus>();
  readonly #outputs = new Map<string, unknown>();
  readonly #failures = new Map<string, { error: unknown; serialized: SerializedError }>();
  /** Journaled decisions, in journal order: replay applies them in this order. */
  readonly #replay: { node: GraphNode<Input, Context>; event: JournalEvent }[];
  #cursor = 0;
  #pending = 0;
  #failing = false;
  #fatal: unknown;
  #finished = false;
  #resolve!: (result: GraphResult) => void;
  #reject!: (error: unknown) => void;

  constructor(
    graph: Graph<Input, Context>,
    ctx: Context,
    input: Input,
    op: OperationHandle,
    nodeOps: OperationHandle[],
  ) {
    this.#graph = graph;
    this.#ctx = ctx;
    this.#input = input;
    this.#op = op;
    graph.nodes.forEach((node, index) => {
      this.#nodeOps.set(node.id, nodeOps[index]!);
      this.#status.set(node.id, 'waiting');
    });
    this.#replay = [];
    for (const node of graph.nodes) {
      const event = recordedEvent(this.#nodeOps.get(node.id)!, 'graph.node.started', 'graph.node.skipped');
      if (event) this.#replay.push({ node, event: event });
    }
    this.#replay.sort((a, b) => a.event.seq - b.event.seq);
  }

  start(): Promise<GraphResult> {
    const done = new Promise<GraphResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (!recordedEvent(this.#op, 'graph.started')) {
      this.#op.buffer({
        type: 'graph.started',
        payload: {
          op: this.#op.op,
          name: this.#graph.name,
          nodes: this.#graph.nodes.map((node) => ({ id: node.id, deps: [...node.deps] })),
        },
      });
    }
    this.#pump();
    return done;
  }

  /** Decides every node whose dependencies are done, until nothing more can be decided now. */
  #pump(): void {
    let progressed = true;
    while (progressed && !this.#finished) {
      progressed = false;
      for (const node of this.#graph.nodes) {
        if (this.#status.get(node.id) !== 'waiting' || !this.#depsDone(node)) continue;
        if (this.#cursor < this.#replay.length) {
          // Replaying: only the next journaled decision may be applied.
          const next = this.#replay[this.#cursor]!;
          if (next.node !== node) continue;
          this.#cursor++;
          if (next.event.type === 'graph.node.skipped') {
            this.#skip(node, (next.event.payload as { reason: string }).reason, false);
          } else {
            this.#run(node, false);
          }
          progressed = true;
          break;
        }
        if (this.#failing) continue;
        this.#decide(node);
        progressed = true;
      }
    }
    this.#checkFinished();
  }

  #depsDone(node: GraphNode<Input, Context>): boolean {
    return node.deps.every((dep) => {
      const status = this.#status.get(dep);
      return status === 'completed' || status === 'skipped';
    });
  }

  #decide(node: GraphNode<Input, Context>): void {
    const skipped = node.deps.find(
      (dep) => this.#status.get(dep) === 'skipped' && !node.optionalDeps.has(dep),
    );
    if (skipped !== undefined) return this.#skip(node, `its dependency '${skipped}' was skipped`, true);
    if (!node.when) return this.#run(node, true);
    let answer: unknown;
    try {
      answer = node.when(this.#inputs(node), this.#input);
    } catch (error) {
      return this.#fail(node, error);
    }
    if (typeof (answer as PromiseLike<unknown> | undefined)?.then !== 'function')
      return this.#apply(node, decision(answer));
    this.#status.set(node.id, 'deciding');
    this.#pending++;
    Promise.resolve(answer).then(
      (value) => {
        this.#pending--;
        this.#apply(node, decision(value));
        this.#pump();
      },
      (error: unknown) => {
        this.#pending--;
        this.#fail(node, error);
        this.#pump();
      },
    );
  }

  #apply(node: GraphNode<Input, Context>, chosen: Decision): void {
    if (chosen.kind === 'skip') this.#skip(node, chosen.reason, true);
    else this.#run(node, true);
  }

  #inputs(node: GraphNode<Input, Context>): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    for (const dep of node.deps)
      if (this.#status.get(dep) === 'completed') inputs[dep] = this.#outputs.get(dep);
    return inputs;
  }

  #skip(node: GraphNode<Input, Context>, reason: string, live: boolean): void {
    this.#status.set(node.id, 'skipped');
    if (!live) return;
    const op = this.#nodeOps.get(node.id)!;
    op.buffer({ type: 'graph.node.skipped', payload: { ...this.#nodePayload(node, op), reason } });
  }

  #run(node: GraphNode<Input, Context>, live: boolean): void {
    const op = this.#nodeOps.get(node.id)!;
    this.#status.set(node.id, 'running');
    this.#pending++;
    if (live) op.buffer({ type: 'graph.node.started', payload: this.#nodePayload(node, op) });
    // Called now (a promise's executor runs at once), not a tick later, so nodes make their first
    // ctx call in the order they started; a synchronous throw becomes a rejection.
    new Promise<unknown>((resolve) => resolve(node.run(this.#ctx, this.#inputs(node), this.#input))).then(
      (value) => {
        this.#pending--;
        this.#completed(node, value);
        this.#pump();
      },
      (error: unknown) => {
        this.#pending--;
        this.#fail(node, error);
        this.#pump();
      },
    );
  }

  #completed(node: GraphNode<Input, Context>, value: unknown): void {
    const op = this.#nodeOps.get(node.id)!;
    const recorded = recordedEvent(op, 'graph.node.completed', 'graph.node.failed');
    if (recorded?.type === 'graph.node.failed') {
      this.#fatal ??= outcomeDiverged(
        this.#ctx,
        recorded,
        `node '${node.id}' failed`,
        'the node completed on replay',
      );
    }
    this.#status.set(node.id, 'completed');
    this.#outputs.set(node.id, value);
    if (!recorded) op.buffer({ type: 'graph.node.completed', payload: this.#nodePayload(node, op) });
  }

  #fail(node: GraphNode<Input, Context>, error: unknown): void {
    this.#status.set(node.id, 'failed');
    this.#failing = true;
    if (isNonDeterminism(error)) {
      this.#fatal ??= error;
      return;
    }
    const serialized = serializeError(error);
    this.#failures.set(node.id, { error, serialized });
    const op = this.#nodeOps.get(node.id)!;
    const recorded = recordedEvent(op, 'graph.node.completed', 'graph.node.failed');
    if (recorded?.type === 'graph.node.completed') {
      this.#fatal ??= outcomeDiverged(
        this.#ctx,
        recorded,
        `node '${node.id}' completed`,
        'the node failed on replay',
      );
    }
    if (!recorded)
      op.buffer({
        type: 'graph.node.failed',
        payload: { ...this.#nodePayload(node, op), error: serialized },
      });
  }

  #nodePayload(
    node: GraphNode<Input, Context>,
    op: OperationHandle,
  ): { op: number; name: string; graph: string; node: string } {
    return { op: op.op, name: `${this.#graph.name}/${node.id}`, graph: this.#graph.name, node: node.id };
  }

  #checkFinished(): void {
    if (this.#finished || this.#pending > 0) return;
    this.#finished = true;
    if (this.#fatal !== undefined) return this.#reject(this.#fatal);
    const ids = (status: NodeStatus): string[] =>
      this.#graph.nodes.filter((node) => this.#status.get(node.id) === status).map((node) => node.id);
    const completed = ids('completed');
    const skipped = ids('skipped');
    if (this.#failing) {
      const failed = ids('failed');
      const failures = Object.fromEntries(
        [...this.#failures].map(([id, failure]) => [id, failure.serialized]),
      );
      const cause = this.#failures.values().next().value?.error;
      const error = new GraphFailedError({ graph: this.#graph.name, failures, cause });
      this.#end({
        type: 'graph.failed',
        payload: { op: this.#op.op, name: this.#graph.name, failed, completed, skipped },
      }).then(
        () => this.#reject(error),
        (appendError: unknown) => this.#reject(appendError),
      );
      return;
    }
    const waiting = ids('waiting');
    if (waiting.length > 0) {
      // Only a journaled decision the code can no longer reach leaves nodes waiting.
      const next = this.#replay[this.#cursor];
      return this.#reject(
        next
          ? outcomeDiverged(
              this.#ctx,
              next.event,
              `node '${next.node.id}' decided next`,
              `nodes ${waiting.join(', ')} still waiting on their dependencies`,
            )
          : new BatonError(
              'GRAPH_STALLED',
              `Graph '${this.#graph.name}' stalled with nodes ${waiting.join(', ')} waiting.`,
            ),
      );
    }
    const outputs = Object.fromEntries(completed.map((id) => [id, this.#outputs.get(id)]));
    this.#end({
      type: 'graph.completed',
      payload: { op: this.#op.op, name: this.#graph.name, completed, skipped },
    }).then(
      () => this.#resolve({ outputs, skipped }),
      (appendError: unknown) => this.#reject(appendError),
    );
  }

  async #end(
    event:
      | {
          type: 'graph.completed';
          payload: { op: number; name: string; completed: string[]; skipped: string[] };
        }
      | {
          type: 'graph.failed';
          payload: { op: number; name: string; failed: string[]; completed: string[]; skipped: string[] };
        },
  ): Promise<void> {
    if (recordedEvent(this.#op, 'graph.completed', 'graph.failed')) return;
    await this.#op.append([event]);
  }
}

function decision(answer: unknown): Decision {
  return answer ? { kind: 'start' } : { kind: 'skip', reason: 'its condition was false' };
}
