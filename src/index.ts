// The public surface of 'baton': what a workflow author writes. Each layer's extension points and
// tools live behind its subpath, in the index.ts of its folder: 'baton/agents', 'baton/guard',
// 'baton/access', 'baton/routing', 'baton/explain', 'baton/store', 'baton/testing',
// 'baton/postgres', 'baton/server'. Nothing else is public; api/*.api.md records each list.

// Baton: open, start, signal, approve, fork, replay…
export { Baton, type BatonOptions, type RunHandle, type StartOptions } from './baton.ts';
export { defineConfig, type BatonConfig } from './config.ts';

// Workflows: the engine's durable API, with the context every layer extends.
export { workflow, type AgentContext } from './context-layers.ts';
export type { ContextLayer, LayerActivation } from './engine/context-layer.ts';
export type {
  WorkflowContext,
  WorkflowDefinition,
  WorkflowOptions,
  WorkflowQuery,
  StepInfo,
  StepOptions,
  WaitOptions,
  ChildOptions,
  ChildRun,
  OperationApi,
  OperationHandle,
  PoolEstimate,
  PoolLease,
} from './engine/context.ts';
export type { AccessChildOptions } from './access/access-layer.ts';
export { CancelledError, type CancellationScope } from './engine/cancellation-scope.ts';
export type { RetryPolicy } from './engine/retry.ts';
export { toMilliseconds, type Duration } from './engine/duration.ts';
export type { WorkerOptions } from './engine/worker.ts';
export type { ActivationOutcome } from './engine/executor.ts';
export type { ResumeInPlaceOptions } from './engine/resume-run.ts';
export { SignalKeyConflictError, type SignalReceipt } from './engine/signal-delivery.ts';
export { UnknownQueryError, type PublishedValue } from './engine/published-values.ts';
export { PatchMisuseError } from './engine/patches.ts';
export { ContinueAsNewInStepError, ContinueAsNewRequest } from './engine/continue-as-new.ts';

// Agents and tools.
export {
  agent,
  type AgentDefinition,
  type AgentOptions,
  type AgentOutput,
  type AgentMemoryOptions,
  type AgentGuardrails,
  type AgentGuardrail,
} from './agents/agent.ts';
export type { AgentCacheOptions } from './agents/turn-cache.ts';
export type { ToolUseBehavior, ToolCallResult, ToolsToFinalOutput } from './agents/tool-use-behavior.ts';
export type { AgentModelStrategy, AgentTurnRequest, AgentTurnReply } from './agents/turn-model-selection.ts';
export type { AgentsOptions } from './agents/runtime.ts';
export {
  tool,
  type ToolDefinition,
  type ToolOptions,
  type ToolContext,
  type ToolEffect,
  type SecretReader,
} from './agents/tool.ts';
export { runAgent, type AgentInput, type AgentRunResult, type RunAgentOptions } from './agents/run-agent.ts';
export { callTool, type CallToolOptions } from './agents/call-tool.ts';
export {
  mcp,
  McpToolError,
  McpConnectionError,
  type McpConnection,
  type McpOptions,
  type McpStdioOptions,
  type McpHttpOptions,
  type McpToolOverride,
} from './agents/mcp.ts';
export { registerModelProvider, type ModelProvider, type ModelSpec } from './agents/models.ts';

// Patterns and plans: each journals its decision and why.
export { sequential, type Stage, type SequentialOptions } from './patterns/sequential.ts';
export {
  route,
  type RouteOptions,
  type RouteTarget,
  type RouteAnswer,
  type Classifier,
  type StepClassifier,
} from './patterns/route.ts';
export { parallel, type ParallelOptions, type ParallelOutcome } from './patterns/parallel.ts';
export {
  graph,
  graphWorkflow,
  type Graph,
  type GraphSpec,
  type GraphNodeSpec,
  type GraphNode,
  type GraphResult,
  type GraphWorkflowDefinition,
} from './patterns/graph.ts';
export type { Runnable, AgentLike, AgentRequest } from './patterns/runnable.ts';
export {
  machine,
  machineWorkflow,
  type Machine,
  type MachineSpec,
  type MachineStateSpec,
  type MachineEdgeSpec,
  type MachineStep,
  type MachineResult,
} from './patterns/machine.ts';
export {
  GraphDefinitionError,
  GraphFailedError,
  ParallelFailedError,
  RouteNotFoundError,
  MachineDefinitionError,
  MachineStuckError,
  MachineStepLimitError,
} from './patterns/pattern-errors.ts';
export {
  plan,
  planWorkflow,
  planSchema,
  type Plan,
  type PlanOptions,
  type PlanSpec,
  type PlanTask,
  type PlanRequest,
  type PlanResult,
  type Planner,
  type PlanWorker,
  type CodeWorker,
  type TaskRequest,
} from './planning/plan.ts';
export { checkPlan, type PlanEnvironment, type PlanCheck } from './planning/plan-check.ts';
export {
  PlanInvalidError,
  PlanRevisionsExhaustedError,
  PlanNotApprovedError,
} from './planning/plan-errors.ts';

// Resource pools.
export { withPool } from './resources/with-pool.ts';
export { classifyError, parseRetryAfter, type ErrorClassification } from './resources/classify-error.ts';
export type { PoolsConfig, PoolConfig, CircuitBreakerConfig } from './resources/pool-config.ts';
export type { PoolScheduler } from './resources/pool-scheduler.ts';
export type { PoolStats } from './resources/pool-stats.ts';
export type { PoolEvent, PoolListener } from './resources/pool-metrics.ts';
export type { BreakerState } from './resources/pool-breaker.ts';

// Errors: one base with a stable `code`; the agents', patterns' and plans' below, the other
// layers' in their subpaths.
export {
  MaxTurnsExceededError,
  TooManyInvalidToolCallsError,
  StructuredOutputError,
  HandoffLimitError,
  ModelProviderError,
  ModelResponseError,
  ModelCallFailedError,
  ModelCallDeniedError,
  MissingApiKeyError,
  UnknownModelError,
  ToolCallFailedError,
  ToolOutputError,
  TripwireTriggeredError,
  AgentsLayerMissingError,
} from './agents/errors.ts';
export {
  BatonError,
  NonRetryableError,
  RunFailedError,
  RunCancelledError,
  RunTimeoutError,
  RunNotFoundError,
  StepFailedError,
  StepTimeoutError,
  WaitTimeoutError,
  RunWaitTimeoutError,
  SeqConflictError,
  SignalConsumedError,
  NonDeterminismError,
  UnknownWorkflowError,
  RunFinishedError,
  RunPausedError,
  RunNotResumableError,
  NotSerializableError,
  PayloadTooLargeError,
  UnknownPoolError,
  OverloadedError,
  RateLimitedError,
  ServiceUnavailableError,
  ConfigError,
  InvalidArgumentError,
  type ErrorDisposition,
  type SerializedError,
} from './errors.ts';

// What a run's history holds.
export type { JournalEvent, JournalEventType, JournalEventPayloads } from './journal/events.ts';
export type { Store, RunRecord, RunStatus, RunFilter } from './store/store.ts';

// Live run streams: journal events and the deltas of work in flight, to any reader (docs/guide/live-streams.md).
export type { RunStreamPart } from './engine/run-stream-parts.ts';
export type { RunStreamApi } from './engine/context.ts';
export type { StreamsOptions } from './live-streams.ts';
export { StreamCursorError, StreamReadersExhaustedError } from './engine/stream-errors.ts';
