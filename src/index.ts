// The public surface of 'baton': the names a workflow author writes in ordinary code (50; listed by
// test/public-surface.test.ts and api/baton.api.md). Everything else sits behind the subpath of the
// folder that defines it, in that folder's index.ts: 'baton/engine', 'baton/agents',
// 'baton/patterns', 'baton/resources', 'baton/guard', 'baton/access', 'baton/routing',
// 'baton/explain', 'baton/journal', 'baton/store', 'baton/testing', 'baton/postgres',
// 'baton/server'; 'baton/errors' holds every error class (docs/decisions/0028). Nothing else is
// public; api/*.api.md records each list.

// Baton: open, start, signal, approve, fork, replay… and the runs it returns.
export { Baton, type BatonOptions, type RunHandle, type StartOptions } from './baton.ts';
export type { RunRecord, RunStatus } from './store/store.ts';
export { defineConfig, type BatonConfig } from './config.ts';

// Workflows: the engine's durable API, with the context the layers extend.
export { workflow, type AgentContext } from './workflow.ts';
export type {
  WorkflowContext,
  WorkflowDefinition,
  WorkflowOptions,
  StepOptions,
  WaitOptions,
  ChildOptions,
} from './engine/context.ts';
export type { RetryPolicy } from './engine/retry.ts';
export type { Duration } from './engine/duration.ts';

// Agents and tools.
export { agent, type AgentDefinition, type AgentOptions } from './agents/agent.ts';
export {
  tool,
  type ToolDefinition,
  type ToolOptions,
  type ToolContext,
  type ToolEffect,
} from './agents/tool.ts';
export { runAgent } from './agents/run-agent.ts';
export { callTool } from './agents/call-tool.ts';
export { mcp } from './agents/mcp.ts';

// Patterns and plans: each journals its decision and why (their types: 'baton/patterns').
export { sequential } from './patterns/sequential.ts';
export { route } from './patterns/route.ts';
export { parallel } from './patterns/parallel.ts';
export { graph, graphWorkflow } from './patterns/graph.ts';
export { machine, machineWorkflow } from './patterns/machine.ts';
export { plan, planWorkflow, planSchema } from './planning/plan.ts';

// The errors a workflow or its caller catches; every error class is in 'baton/errors'.
export {
  BatonError,
  NonRetryableError,
  StepFailedError,
  WaitTimeoutError,
  RunFailedError,
  RunTimeoutError,
  RunCancelledError,
  OverloadedError,
  InvalidArgumentError,
} from './errors.ts';
export { CancelledError } from './engine/cancellation-scope.ts';
export { TripwireTriggeredError } from './agents/errors.ts';
