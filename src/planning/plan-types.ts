import type { z } from 'zod';
import { lazyObject, zod } from '../lazy-module.ts';
import type { Grant } from '../access/grant.ts';
import type { AgentDefinition } from '../agents/agent.ts';
import type { Duration } from '../engine/duration.ts';
import type { WorkflowContext } from '../engine/context.ts';
import type { CapabilityRegistry } from '../routing/capability-registry.ts';

/** One task of a plan, as a planner writes it. */
export interface PlanTask {
  /** Unique in the plan: letters, digits, `_`, `.`, `:` or `-`. */
  id: string;
  /** What to do: the task the worker is given. */
  description: string;
  /** Tasks whose outputs this one needs; they are passed to it by id. */
  deps?: string[];
  /** What kind of worker it needs, in words: routed through the capability index. */
  capability?: string;
  /** A worker by name, instead of a capability. */
  worker?: string;
  /** The tools the task may use; its grant is narrowed to them. Default: what its worker needs. */
  tools?: string[];
}

/** A plan: a task graph, as data. */
export interface PlanSpec {
  tasks: PlanTask[];
}

/**
 * The schema of a plan, for a planner agent's structured output (`agent({ output: planSchema })`).
 * A zod schema, made (and zod loaded) the first time it is used.
 */
export const planSchema: z.ZodType<PlanSpec> = lazyObject(() => {
  const z = zod();
  return z.object({
    tasks: z.array(
      z.object({
        id: z.string(),
        description: z.string(),
        deps: z.array(z.string()).optional(),
        capability: z.string().optional(),
        worker: z.string().optional(),
        tools: z.array(z.string()).optional(),
      }),
    ),
  });
});

/** What a task's worker receives. */
export interface TaskRequest {
  /** The task's id and description. */
  id: string;
  task: string;
  /** The goal the plan serves. */
  goal: string;
  /** The outputs of the tasks it depends on, by id. */
  inputs: Record<string, unknown>;
  /** The grant the task is narrowed to (undefined when the run holds none). */
  grant: Grant | undefined;
}

/** A worker written as code: workflow code, journaled and replayed like any other. */
export interface CodeWorker<Context extends WorkflowContext = WorkflowContext> {
  kind?: 'code';
  /** What it does: what the capability index matches tasks against. */
  description: string;
  run: (ctx: Context, request: TaskRequest) => unknown;
  /** The grant actions it needs (`tool:payments.refund`); checked against the run's grant. */
  needs?: readonly string[];
  /** True when its effect cannot be undone: a plan holding it may need approval. */
  irreversible?: boolean;
  /** What choosing it costs, for cost-biased routing. Default 1. */
  cost?: number;
}

/** Who carries out tasks: an agent, or code. */
export type PlanWorker<Context extends WorkflowContext = WorkflowContext> =
  AgentDefinition<any> | CodeWorker<Context>;

/** What a planner is asked. */
export interface PlanRequest {
  goal: string;
  /** 0 for the first plan, then one more per re-plan. */
  revision: number;
  /** 1 for the first proposal of this revision, then one more per rejected proposal. */
  attempt: number;
  /** The workers a task may name, with what they do. */
  workers: { name: string; description: string }[];
  maxTasks: number;
  /** Why the previous proposal was rejected: fix these. */
  problems: string[];
  /** Tasks already done (their outputs are kept; depend on them by id, do not plan them again). */
  completed: { id: string; description: string; output: unknown }[];
  /** Why the previous plan stopped, when re-planning. */
  failure?: { task: string; code?: string; message: string };
  /** The plan being replaced, when re-planning. */
  previous?: PlanSpec;
}

/** Turns a goal into a plan: an agent with `output: planSchema`, or a function (run as a journaled step). */
export type Planner = AgentDefinition<PlanSpec> | ((request: PlanRequest) => PlanSpec | Promise<PlanSpec>);

export interface PlanOptions<Context extends WorkflowContext = WorkflowContext> {
  description?: string;
  planner: Planner;
  /** The workers tasks run on, by name (an agent's name should be its key). */
  workers: Record<string, PlanWorker<Context>>;
  /**
   * The capability index tasks naming a `capability` are routed through, among the workers. Default:
   * an in-memory index of the workers' descriptions (the lexical embedder), costs from their models' prices.
   */
  registry?: CapabilityRegistry;
  /** Capability routing: `costBias` 0 takes the most similar worker, 1 the cheapest that clears `minScore`. */
  routing?: { costBias?: number; minScore?: number };
  /** The most tasks a plan may hold. Default 20. */
  maxTasks?: number;
  /** Proposals per plan or re-plan before giving up with PlanInvalidError. Default 3. */
  maxAttempts?: number;
  /** Re-plans after a failure before giving up with PlanRevisionsExhaustedError. Default 2. */
  maxRevisions?: number;
  /**
   * Ask a person before running a plan: `'irreversible'` when a task's worker has an irreversible
   * tool (or is an irreversible code worker), `'always'` for every plan. The approver sees the whole
   * plan and may approve it as it is, approve an edited plan (`args: { tasks }`), or deny it.
   */
  approval?: { when: 'irreversible' | 'always'; approvers?: readonly string[]; timeout?: Duration };
}

/** What a plan run returns. */
export interface PlanResult {
  /** Every completed task's output, kept ones included. */
  outputs: Record<string, unknown>;
  /** The revision that completed (0 when the first plan did). */
  revision: number;
  /** The tasks of that revision, as journaled. */
  tasks: { id: string; assigned: string; deps: string[] }[];
}

/** A plan definition: how goals become checked task graphs. Create with {@link index!plan | plan}. */
export interface Plan<Context extends WorkflowContext = WorkflowContext> {
  readonly kind: 'plan';
  readonly name: string;
  readonly options: Readonly<PlanOptions<Context>> & {
    readonly maxTasks: number;
    readonly maxAttempts: number;
    readonly maxRevisions: number;
  };
  /**
   * Plans the goal and runs the plan inside a workflow (see `runPlan` in src/planning/plan-run.ts for what is journaled
   * and what happens on failure, crash and replay).
   */
  run(ctx: Context, goal: string): Promise<PlanResult>;
}
