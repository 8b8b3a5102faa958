// The public surface of 'baton/patterns': the types of the patterns and plans, and their errors.
// The functions a workflow calls (sequential, route, parallel, graph, machine, plan and the
// *Workflow forms) are in 'baton'; the graphs and plans of a run are drawn by 'baton/explain'.
export type { Stage, SequentialOptions } from './sequential.ts';
export type { RouteOptions, RouteTarget, RouteAnswer, Classifier, StepClassifier } from './route.ts';
export type { ParallelOptions, ParallelOutcome } from './parallel.ts';
export type {
  Graph,
  GraphSpec,
  GraphNodeSpec,
  GraphNode,
  GraphResult,
  GraphWorkflowDefinition,
} from './graph.ts';
export type { Runnable, AgentLike, AgentRequest } from './runnable.ts';
export type {
  Machine,
  MachineSpec,
  MachineStateSpec,
  MachineEdgeSpec,
  MachineStep,
  MachineResult,
} from './machine.ts';
export {
  GraphDefinitionError,
  GraphFailedError,
  ParallelFailedError,
  RouteNotFoundError,
  MachineDefinitionError,
  MachineStuckError,
  MachineStepLimitError,
} from './pattern-errors.ts';

// Plans made at run time (docs/guide/goals-planned-at-run-time.md).
export type {
  Plan,
  PlanOptions,
  PlanSpec,
  PlanTask,
  PlanRequest,
  PlanResult,
  Planner,
  PlanWorker,
  CodeWorker,
  TaskRequest,
} from '../planning/plan.ts';
export { checkPlan, type PlanEnvironment, type PlanCheck } from '../planning/plan-check.ts';
export {
  PlanInvalidError,
  PlanRevisionsExhaustedError,
  PlanNotApprovedError,
} from '../planning/plan-errors.ts';
