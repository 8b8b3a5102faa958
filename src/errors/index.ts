// The public surface of 'baton/errors': every BatonError the package exports, in one place to find
// what to catch (docs/guide/errors.md lists their codes and dispositions); match one with
// `SomeError.isInstance(error)`. 'baton' keeps the few a workflow or its caller catches, and each
// subpath also exports the errors of the API it holds (docs/decisions/0028).
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
  JournalCorruptError,
  StoreVersionError,
  StoreCorruptError,
  StoreNotFoundError,
  StoreUnavailableError,
  ClockSkewError,
  LeaseLostError,
  type ErrorDisposition,
  type SerializedError,
} from '../errors.ts';

// The engine's: cancellation, signals, queries, patches, continue-as-new, live streams.
export { CancelledError } from '../engine/cancellation-scope.ts';
export { SignalKeyConflictError } from '../engine/signal-delivery.ts';
export { UnknownQueryError } from '../engine/published-values.ts';
export { PatchMisuseError } from '../engine/patches.ts';
export { ContinueAsNewInStepError, ContinueAsNewRequest } from '../engine/continue-as-new.ts';
export { StreamCursorError, StreamReadersExhaustedError } from '../engine/stream-errors.ts';

// Agents, models and tools.
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
} from '../agents/errors.ts';
export { McpToolError, McpConnectionError } from '../agents/mcp.ts';

// Patterns and plans.
export {
  GraphDefinitionError,
  GraphFailedError,
  ParallelFailedError,
  RouteNotFoundError,
  MachineDefinitionError,
  MachineStuckError,
  MachineStepLimitError,
} from '../patterns/pattern-errors.ts';
export {
  PlanInvalidError,
  PlanRevisionsExhaustedError,
  PlanNotApprovedError,
} from '../planning/plan-errors.ts';

// Guardrails, budgets, loops and approvals (also in 'baton/guard').
export {
  GuardrailBlockedError,
  BudgetExceededError,
  BudgetConfigError,
  LoopDetectedError,
} from '../guard/guard-errors.ts';
export {
  ApprovalNotFoundError,
  ApprovalAlreadyDecidedError,
  ApprovalClosedError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  InvalidApprovalArgumentsError,
} from '../approvals/approval-errors.ts';

// Identity, access and evidence (also in 'baton/access').
export {
  UnknownPrincipalError,
  UnknownActionError,
  InvalidGrantError,
  GrantExpiredError,
  DelegationWidensError,
  DelegationDepthError,
  PolicyLoadError,
  AccessDeniedError,
  SecretAccessDeniedError,
  SigningKeyError,
  InvalidBundleError,
} from '../access/access-errors.ts';

// Routing, cache and memory (also in 'baton/routing').
export { EmbeddingDimensionError } from '../routing/embedder.ts';
export { WordVectorsError } from '../routing/word-vectors.ts';
export { EmptyRegistryError, VectorRecordsUnavailableError } from '../routing/routing-errors.ts';

// Explain, replay and fork (also in 'baton/explain').
export {
  HistoryFormatError,
  InvalidHistoryError,
  ForkPointError,
  ForkWorkflowError,
} from '../explain/explain-errors.ts';
