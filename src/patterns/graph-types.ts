import type { WorkflowContext } from '../engine/context.ts';
import type { WorkflowDefinition } from '../engine/workflow.ts';

/** One node of a graph. `inputs` holds the outputs of its dependencies, by node id. */
export interface GraphNodeSpec<Input = any, Context extends WorkflowContext = WorkflowContext> {
  /** The nodes that must be done before this one starts. */
  deps?: readonly string[];
  /**
   * Dependencies whose skip does not skip this node: it runs without their output. By default a
   * skipped dependency skips its dependents.
   */
  optionalDeps?: readonly string[];
  description?: string;
  /** A conditional edge: the node runs only when this answers true (evaluated once, then journaled). */
  when?: (inputs: Record<string, any>, input: Input) => boolean | Promise<boolean>;
  /** Workflow code: its ctx calls are journaled and replayed. Return what dependents receive. */
  run: (ctx: Context, inputs: Record<string, any>, input: Input) => unknown;
}

export interface GraphSpec<Input = any, Context extends WorkflowContext = WorkflowContext> {
  description?: string;
  /** By id, or as a list of nodes with an `id` each. */
  nodes:
    | Record<string, GraphNodeSpec<Input, Context>>
    | readonly (GraphNodeSpec<Input, Context> & { id: string })[];
}

/** A checked node, as the graph keeps it. */
export interface GraphNode<Input = any, Context extends WorkflowContext = WorkflowContext> {
  readonly id: string;
  readonly deps: readonly string[];
  readonly optionalDeps: ReadonlySet<string>;
  readonly description: string | undefined;
  readonly when: GraphNodeSpec<Input, Context>['when'] | undefined;
  readonly run: GraphNodeSpec<Input, Context>['run'];
  /** Its parallel level: 0 for nodes without deps, else one more than its deepest dependency. */
  readonly level: number;
}

/** A graph's structure, for the CLI (`baton graph`), the UI and docs. */
export interface GraphDescription {
  name: string;
  description?: string;
  nodes: {
    id: string;
    deps: string[];
    optionalDeps: string[];
    conditional: boolean;
    level: number;
    description?: string;
  }[];
  edges: { from: string; to: string; optional: boolean }[];
  /** Nodes that can run at once, by topological layer: every node's deps are in earlier levels. */
  levels: string[][];
}

/** What a graph run returns: the outputs of the nodes that completed, and the nodes skipped. */
export interface GraphResult {
  outputs: Record<string, unknown>;
  skipped: string[];
}

/** A checked, frozen DAG. Create with {@link index!graph | graph}. */
export interface Graph<Input = any, Context extends WorkflowContext = WorkflowContext> {
  readonly kind: 'graph';
  readonly name: string;
  readonly description: string | undefined;
  /** The nodes in topological order (by level, then as defined). */
  readonly nodes: readonly GraphNode<Input, Context>[];
  /**
   * Runs the graph inside a workflow. Starts each node as soon as its dependencies are done,
   * journaling each node's start, completion, skip (with why) or failure. On replay the journaled
   * decisions are taken in the journaled order, and `when` is not evaluated again. A failed node
   * fails the graph with GraphFailedError once the nodes already running are done; nothing new starts.
   */
  run(ctx: Context, input: Input): Promise<GraphResult>;
  describe(): GraphDescription;
}

/** A workflow that runs one graph; `graph` lets tools (the CLI, the UI) show its structure. */
export type GraphWorkflowDefinition<
  Input = any,
  Context extends WorkflowContext = WorkflowContext,
> = WorkflowDefinition<Input, GraphResult, Context> & { readonly graph: Graph<Input, Context> };
