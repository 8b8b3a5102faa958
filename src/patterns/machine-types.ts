import type { WorkflowContext } from '../engine/context.ts';

/** What a state's work receives. */
export interface MachineStep<Input = any> {
  /** The machine's input. */
  input: Input;
  /** The output of the state the machine came from (undefined in the initial state). */
  previous: unknown;
  /** The state the machine came from. */
  from: string | undefined;
  /** How many times this state has been entered, this time included (1 the first time). */
  visit: number;
  /** The latest output of every state entered so far. */
  outputs: Readonly<Record<string, unknown>>;
}

/** A transition out of a state. */
export interface MachineEdgeSpec<Input = any> {
  to: string;
  /**
   * Taken when this answers true; edges are tried in order and the first that holds is taken. An
   * edge without `when` always holds. Evaluated once, then journaled: replay takes the journaled edge.
   */
  when?: (output: any, step: MachineStep<Input>) => boolean | Promise<boolean>;
  /**
   * The most times this edge may be taken in one run. Every cycle needs one bounded edge; once an
   * edge has been taken `max` times it no longer holds, so the next edge in order is tried.
   */
  max?: number;
}

export interface MachineStateSpec<Input = any, Context extends WorkflowContext = WorkflowContext> {
  description?: string;
  /** Workflow code: its ctx calls are journaled and replayed. Default: passes `previous` on. */
  run?: (ctx: Context, step: MachineStep<Input>) => unknown;
  /** Where to go next: a state, or edges tried in order. A state without `next` is final. */
  next?: string | readonly (string | MachineEdgeSpec<Input>)[];
}

export interface MachineSpec<Input = any, Context extends WorkflowContext = WorkflowContext> {
  description?: string;
  initial: string;
  states: Record<string, MachineStateSpec<Input, Context>>;
  /** A ceiling on states entered in one run, over and above the cycles' bounds. Default 1000. */
  maxSteps?: number;
}

/** A checked edge. */
export interface MachineEdge<Input = any> {
  readonly from: string;
  readonly to: string;
  readonly when: MachineEdgeSpec<Input>['when'] | undefined;
  readonly max: number | undefined;
}

/** A machine's structure, for `baton graph`, the UI and docs. */
export interface MachineDescription {
  name: string;
  description?: string;
  initial: string;
  states: { id: string; final: boolean; description?: string }[];
  edges: { from: string; to: string; max?: number; conditional: boolean }[];
  /** Each cycle as its path (`review → revise → review`), with the bound that ends it. */
  cycles: { path: string[]; bound: string }[];
}

/** What a machine run returns. */
export interface MachineResult {
  /** The final state reached, and its output. */
  final: string;
  output: unknown;
  /** The states entered, in order. */
  path: string[];
  /** How many times each edge was taken, by `from→to`. */
  edges: Record<string, number>;
}

/** A checked state machine. Create with {@link index!machine | machine}. */
export interface Machine<Input = any, Context extends WorkflowContext = WorkflowContext> {
  readonly kind: 'machine';
  readonly name: string;
  readonly description: string | undefined;
  readonly initial: string;
  readonly states: ReadonlyMap<string, MachineStateSpec<Input, Context>>;
  /** Edges out of each state, in the order they are tried. */
  readonly edges: ReadonlyMap<string, readonly MachineEdge<Input>[]>;
  readonly maxSteps: number;
  /**
   * Runs the machine inside a workflow: enters the initial state, runs its work, takes the first
   * edge that holds, and so on until a final state. Journals the start, every state entered, every
   * edge taken (with how many times it has been taken) and the end. On replay the journaled edges
   * are taken without evaluating `when` again. An edge past its bound no longer holds; a state with
   * no edge that holds fails the machine with MachineStuckError.
   */
  run(ctx: Context, input: Input): Promise<MachineResult>;
  describe(): MachineDescription;
}

/** The key of an edge in counts: `from→to`. */
export function edgeKey(from: string, to: string): string {
  return `${from}→${to}`;
}
