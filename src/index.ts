// The public surface of 'baton'. Nothing else is public.
export { Baton, type BatonOptions, type RunHandle, type StartOptions } from './baton.ts';
export type { WorkflowDefinition, WorkflowOptions } from './engine/workflow.ts';
// Agents (src/agents): `workflow` is the engine's, with a ctx that can `run` agents.
export { workflow, type AgentContext } from './agents/agent-context.ts';
export {
  agent,
  type AgentDefinition,
  type AgentOptions,
  type AgentOutput,
  type AgentGuardrails,
  type AgentGuardrail,
  type AgentMemoryOptions,
} from './agents/agent.ts';
export type { AgentCacheOptions } from './agents/turn-cache.ts';
export type { ToolUseBehavior, ToolCallResult, ToolsToFinalOutput } from './agents/tool-use-behavior.ts';
export type { AgentModelStrategy, AgentTurnRequest, AgentTurnReply } from './agents/turn-routing.ts';
export { hydrateHistory, type HistoryBudget, type HydrationSummary } from './agents/history-budget.ts';
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
  AgentRuntime,
  SCRUBBED_SECRET,
  type AgentsOptions,
  type AgentsCacheSettings,
  type AgentsMemorySettings,
  type AgentAccess,
  type ModelStreamEvent,
  type SecretResolver,
  type SecretRequest,
} from './agents/runtime.ts';
export { agentNeeds, type AgentNeeds } from './agents/agent-needs.ts';
export { estimateModelTokens } from './agents/model-call.ts';
export type {
  ToolCallInterceptor,
  ModelCallInterceptor,
  ToolCallInfo,
  ModelCallInfo,
  ModelCallSummary,
  ToolVerdict,
  ModelVerdict,
  ToolOutcome,
  ToolResultRewrite,
  ParkDecision,
  InterceptorContext,
  VerdictData,
} from './agents/interceptors.ts';
export { approvalSignalName } from './agents/interceptors.ts';
export { inDoubtSignalName, type InDoubtResolution } from './agents/tool-call.ts';
export type { InDoubtCall } from './agents/in-doubt.ts';
export type { AgentChecks } from './agents/runtime.ts';
export type { ParkOutcome, DecidedEvents } from './agents/interceptors.ts';
// Guard (src/guard): guardrails, budgets, loop detection, approvals.
export { Guard, stopError, type GuardOptions } from './guard/guard.ts';
export {
  guardrail,
  toGuardrail,
  tripwire,
  pass,
  block,
  rewrite,
  GUARD_STAGES,
  type Guardrail,
  type GuardrailFunction,
  type GuardrailLike,
  type GuardrailVerdict,
  type GuardrailContext,
  type GuardModels,
} from './guard/guardrail.ts';
export { all, any, sequence } from './guard/guardrail-compose.ts';
export { schema } from './guard/schema-guardrail.ts';
export { maxLength } from './guard/length-guardrail.ts';
export { denyList } from './guard/deny-list.ts';
export {
  redaction,
  redactText,
  luhnValid,
  REDACTION_PATTERNS,
  type RedactionOptions,
  type RedactionPattern,
} from './guard/redaction.ts';
export { judge, type JudgeOptions } from './guard/judge-guardrail.ts';
export { runGuardrails, type GuardrailsOutcome } from './guard/run-guardrails.ts';
export { toolGuardrails, GUARDRAILS_INTERCEPTOR, type ToolGuardrails } from './guard/tool-guardrails.ts';
export { agentGuardrails } from './guard/agent-guardrails.ts';
export type { BudgetLimits, BudgetOptions, TenantBudget } from './guard/budget.ts';
export { budgetInterceptors, BUDGET_INTERCEPTOR, type BudgetBreach } from './guard/budget-interceptor.ts';
export { loopInterceptors, stalledTurns, LOOP_INTERCEPTOR, type LoopOptions } from './guard/loop-detector.ts';
export { requestApproval, type ApprovalRequest, type ApprovalDecision } from './guard/approval.ts';
export { approvalGate, GATE_INTERCEPTOR, type GateOptions } from './guard/approval-gate.ts';
export {
  approvalSignal,
  approvalIdOf,
  type ApprovalKind,
  type ApprovalRouting,
  type ApproverGroups,
  type ApprovalSignalPayload,
} from './guard/approval-routing.ts';
export { approvalRight, type ApprovalRight } from './guard/approval-rights.ts';
export {
  ApprovalDesk,
  type ApproveOptions,
  type DenyOptions,
  type ApprovalReceipt,
  type PendingApproval,
  type ApprovalsQuery,
} from './guard/approval-desk.ts';
export {
  GuardrailBlockedError,
  BudgetExceededError,
  BudgetConfigError,
  LoopDetectedError,
  ApprovalNotFoundError,
  ApprovalAlreadyDecidedError,
  ApprovalClosedError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  InvalidApprovalArgumentsError,
  type BudgetScope,
} from './guard/guard-errors.ts';
export {
  registerModelProvider,
  checkModelId,
  type ModelProvider,
  type ModelSpec,
  type LanguageModelObject,
} from './agents/models.ts';
export {
  DEFAULT_PRICES,
  type PriceTable,
  type ModelPrice,
  type TokenUsage,
  type CallCost,
} from './agents/prices.ts';
export {
  messageStore,
  requestMessages,
  messageHash,
  conversationHash,
  type JournalMessage,
  type RequestRef,
} from './agents/messages.ts';
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
} from './agents/errors.ts';
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
// Patterns (src/patterns): each journals its decision and why.
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
  graphOf,
  type Graph,
  type GraphSpec,
  type GraphNodeSpec,
  type GraphNode,
  type GraphDescription,
  type GraphResult,
  type GraphWorkflowDefinition,
} from './patterns/graph.ts';
export { formatGraph } from './patterns/graph-format.ts';
export type { Runnable, AgentLike, AgentRequest } from './patterns/runnable.ts';
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
  machine,
  machineWorkflow,
  machineOf,
  type Machine,
  type MachineSpec,
  type MachineStateSpec,
  type MachineEdgeSpec,
  type MachineStep,
  type MachineResult,
  type MachineDescription,
} from './patterns/machine.ts';
// Planning (src/planning): goals decomposed at run time into checked, journaled task graphs.
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
export { formatPlans, plansOf, type PlanHistory } from './planning/plan-format.ts';
export {
  PlanInvalidError,
  PlanRevisionsExhaustedError,
  PlanNotApprovedError,
} from './planning/plan-errors.ts';
// Routing (src/routing): capability routing, model routing, semantic cache, memory, selective hydration.
export type { Embedder, CalibratedDefaults } from './routing/embedder.ts';
export { EmbeddingDimensionError } from './routing/embedder.ts';
export { embedderFromModel, type ModelEmbedderOptions } from './routing/model-embedder.ts';
export {
  LexicalEmbedder,
  DocumentFrequencyTable,
  type LexicalEmbedderOptions,
} from './routing/lexical-embedder.ts';
export { WordVectorEmbedder, type WordVectorEmbedderOptions } from './routing/word-vector-embedder.ts';
export { WordVectorsError } from './routing/word-vectors.ts';
export {
  CacheErrorBound,
  boundedThreshold,
  type CacheBound,
  type CacheVerdict,
  type CacheErrorBoundOptions,
} from './routing/cache-error-bound.ts';
export type { VectorIndex, VectorHit, VectorSearchOptions } from './routing/vector-index.ts';
export { HnswIndex, type HnswOptions } from './routing/hnsw-index.ts';
export { ExactIndex } from './routing/exact-index.ts';
export {
  CapabilityRegistry,
  type Capability,
  type CapabilityRegistryOptions,
  type RankOptions,
  type RankedCandidate,
  type Ranking,
} from './routing/capability-registry.ts';
export { capabilityOf, type AgentCapabilityOptions } from './routing/agent-capabilities.ts';
export {
  routeByCapability,
  type RouteOptions as CapabilityRouteOptions,
  type RouteDecision,
} from './routing/route-by-capability.ts';
export {
  withRouting,
  type RoutingContext,
  type RoutingSetup,
  type RoutingOptions,
} from './routing/routing-context.ts';
export {
  routeModel,
  selectModel,
  type ModelStrategy,
  type Verifier,
  type Verdict,
  type RoutedCallOptions,
  type RoutedCallResult,
} from './routing/model-router.ts';
export { judgeVerifier, type JudgeVerifierOptions } from './routing/judge-verifier.ts';
export { estimateDifficulty } from './routing/difficulty.ts';
export type { ModelChoice } from './routing/model-price.ts';
export { costReport, type CostReport, type CostLine } from './routing/cost-report.ts';
export {
  SemanticCache,
  cachedModelCall,
  type CacheScope,
  type CacheRequest,
  type CacheLookup,
  type SemanticCacheOptions,
  type CachedCallOptions,
  type CachedCallResult,
} from './routing/semantic-cache.ts';
export {
  LongTermMemory,
  type LongTermMemoryOptions,
  type MemoryApi,
  type RememberOptions,
  type RecallOptions,
  type RecalledMemory,
} from './routing/memory.ts';
export {
  buildContext,
  type BuildContextOptions,
  type BuiltContext,
  type HistoryMessage,
} from './routing/context-builder.ts';
export { estimateTokens, requestText, type TokenCounter } from './routing/request-text.ts';
export { EmptyRegistryError, VectorRecordsUnavailableError } from './routing/routing-errors.ts';
export type {
  VectorRecordStore,
  VectorRecord,
  NewVectorRecord,
  VectorRecordScope,
} from './store/vector-records.ts';
export type {
  WorkflowContext,
  StepInfo,
  StepOptions,
  WaitOptions,
  ChildOptions,
  ChildRun,
  OperationApi,
  OperationHandle,
} from './engine/context.ts';
export { CancelledError, type CancellationScope } from './engine/cancellation-scope.ts';
export type { ResumeInPlaceOptions } from './engine/resume-run.ts';
export type { RetryPolicy } from './engine/retry.ts';
export { toMilliseconds, type Duration } from './engine/duration.ts';
export type { WorkerOptions } from './engine/worker.ts';
export type { ActivationOutcome } from './engine/executor.ts';
export { SignalKeyConflictError, type SignalReceipt } from './engine/signal-delivery.ts';
export { UnknownQueryError, type PublishedValue, type WorkflowQuery } from './engine/published-values.ts';
export { PatchMisuseError } from './engine/patches.ts';
export { ContinueAsNewInStepError, ContinueAsNewRequest } from './engine/continue-as-new.ts';
export {
  BatonError,
  NonDeterminismError,
  UnknownWorkflowError,
  RunNotFoundError,
  RunFinishedError,
  NotSerializableError,
  PayloadTooLargeError,
  StoreVersionError,
  StoreCorruptError,
  StoreNotFoundError,
  StoreUnavailableError,
  ClockSkewError,
  LeaseLostError,
  SeqConflictError,
  SignalConsumedError,
  StepFailedError,
  NonRetryableError,
  StepTimeoutError,
  WaitTimeoutError,
  RunTimeoutError,
  RunWaitTimeoutError,
  RunCancelledError,
  RunPausedError,
  RunNotResumableError,
  RunFailedError,
  ConfigError,
  InvalidArgumentError,
  UnknownPoolError,
  OverloadedError,
  RateLimitedError,
  ServiceUnavailableError,
  JournalCorruptError,
  type SerializedError,
  type ErrorDisposition,
} from './errors.ts';
export type {
  JournalEvent,
  JournalEventType,
  JournalEventPayloads,
  AnyJournalEvent,
  EventDraft,
  PartialFailurePolicy,
  AccessDecisionPayload,
  GrantRecord,
  GuardStage,
  GuardVerdictRecord,
  ApprovalStageRecord,
  BudgetMetric,
} from './journal/events.ts';
export { verifyChain, type ChainVerification, type ChainBreak } from './journal/hash-chain.ts';
export { canonicalJson } from './journal/canonical-json.ts';
export type {
  Store,
  RunRecord,
  RunStatus,
  RunFilter,
  NewRun,
  JournalWrite,
  RunTransition,
  WriteOutcome,
  SignalRecord,
  NewSignal,
  LeaseStatus,
  TenantScope,
  AdmissionBound,
} from './store/store.ts';
export type {
  PoolStore,
  PoolLimits,
  PoolAcquireRequest,
  PoolAcquireResult,
  PoolRefusal,
  PoolReleaseOptions,
  PoolUsage,
} from './store/pool-store.ts';
// Resource pools (src/resources): limits across processes, waits that park, classified retries.
export type { PoolEstimate, PoolLease } from './engine/pool-gate.ts';
export { withPool } from './resources/with-pool.ts';
export { classifyError, parseRetryAfter, type ErrorClassification } from './resources/classify-error.ts';
export type { PoolConfig, PoolsConfig, CircuitBreakerConfig } from './resources/pool-config.ts';
export type { PoolScheduler } from './resources/pool-scheduler.ts';
export type { PoolStats } from './resources/pool-stats.ts';
export type { PoolEvent, PoolListener } from './resources/pool-metrics.ts';
export type { BreakerState } from './resources/pool-breaker.ts';
// Access (src/access): identities, delegated grants, Cedar policies, secrets, tamper evidence, audit.
export { parsePrincipal, formatPrincipal, type Principal, type PrincipalKind } from './access/principal.ts';
export {
  identityChain,
  chainOf,
  actingFor,
  chainRoot,
  describeChain,
  type IdentityChain,
} from './access/identity-chain.ts';
export { createGrant, parseGrant, grantAllows, type Grant, type GrantInput } from './access/grant.ts';
export { delegate, type DelegationNeeds, type DelegationOptions } from './access/delegate.ts';
export {
  AccessControl,
  type AccessOptions,
  type GrantSpec,
  type GrantPolicy,
  type GrantPolicyRequest,
} from './access/access-control.ts';
export { grantOf } from './access/run-grant.ts';
export { authorizeByGrant } from './access/grant-authorizer.ts';
export {
  authorizeDelegationDurably,
  authorizeDelegationInOperation,
  decideDelegation,
  type DelegationRequest,
  type DelegationDecision,
} from './access/authorize-delegation.ts';
export { resolvePolicyFiles } from './access/policy-files.ts';
export { actionMatches, patternCovers } from './access/action-pattern.ts';
export {
  BATON_ACTIONS,
  type BatonAction,
  type AccessResource,
  type AuthorizationRequest,
  type AccessDecision,
  type DecisionReason,
  type Authorizer,
} from './access/access-request.ts';
export { PolicyEngine, type PolicyEngineOptions } from './access/policy-engine.ts';
export {
  authorizeDurably,
  authorizeInOperation,
  assertAllowed,
  type DurableAuthorizationRequest,
  type DurableAuthorizationOptions,
} from './access/authorize-durably.ts';
export { toolAccessInterceptor, type ToolAccessOptions } from './access/tool-access-interceptor.ts';
// The access layer's secret broker; the agents layer takes any SecretResolver (its forAgents() is one).
export {
  SecretBroker as ScopedSecretBroker,
  envSecrets,
  mapSecrets,
  type SecretSource,
  type SecretIdentity,
} from './access/secret-broker.ts';
export { redact, REDACTED } from './access/redact.ts';
export {
  SigningKey,
  type PublicKeyJwk,
  type PublicKeyInput,
  type SigningKeyOptions,
} from './access/signing-key.ts';
export { signCheckpoint, verifyCheckpoint } from './access/checkpoint.ts';
export {
  CheckpointSigner,
  type SigningOptions,
  type CheckpointSignerOptions,
} from './access/checkpoint-signer.ts';
export {
  verifyRun,
  verifyAll,
  describeProblem,
  type RunVerification,
  type VerificationProblem,
  type VerifyAllReport,
  type VerifyOptions,
  type EvidenceRules,
} from './access/verify-run.ts';
export { WitnessLog, type WitnessEntry, type WitnessRead } from './access/witness-log.ts';
export { runView } from './access/run-view.ts';
export type { RunEvidence, RunFacts, RecordDisagreement } from './journal/run-facts.ts';
export {
  exportBundle,
  verifyBundle,
  type AuditBundle,
  type BundleVerification,
  type BundleRules,
} from './access/audit-bundle.ts';
export { audit, formatAuditTable, type AuditQuery, type AuditEntry } from './access/audit.ts';
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
  type PolicyProblem,
} from './access/access-errors.ts';
export type { CheckpointRecord, CheckpointStore } from './store/checkpoints.ts';
export type { EventQuery } from './store/event-query.ts';
export type { ApprovalQuery } from './store/approval-query.ts';
export type { BudgetStore, BudgetAmounts, BudgetReservation } from './store/budget-store.ts';
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.ts';
export { openStore } from './store/open-store.ts';
export { defineConfig, type BatonConfig } from './config.ts';
// Explain, replay, fork, export, OpenTelemetry (src/explain): the journal answering what happened and why.
export { explain, explainEvents, type ExplainOptions } from './explain/explain.ts';
export type {
  Explanation,
  ExplanationNode,
  ExplanationNodeKind,
  ExplanationStatus,
  Decision,
  Reason,
  TokenCount,
} from './explain/explanation.ts';
export { formatExplanation, type FormatExplanationOptions } from './explain/format-explanation.ts';
export { replay, type ReplayOptions, type ReplayReport, type ReplayDivergence } from './explain/replay.ts';
export { forkRun, type ForkOptions, type ForkOverrides, type ForkDeps } from './explain/fork.ts';
export type { AgentOverrides } from './agents/run-overrides.ts';
export {
  exportHistory,
  parseHistory,
  checkHistory,
  historyDocument,
  type HistoryDocument,
  type HistoryExportFormat,
} from './explain/history-document.ts';
export {
  HistoryFormatError,
  InvalidHistoryError,
  ForkPointError,
  ForkWorkflowError,
} from './explain/explain-errors.ts';
export { BatonTelemetry, openTelemetry, type TelemetryOptions } from './explain/telemetry.ts';
export { JournalSpans, runTraceContext } from './explain/journal-spans.ts';
export { JournalMetrics, type PoolSource } from './explain/journal-metrics.ts';
export type { ForkNote } from './store/store.ts';
