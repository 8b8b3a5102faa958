// The public surface of 'baton/agents': the agents' and tools' options and results beyond those
// 'baton' exports (agent, tool, runAgent, callTool, mcp and their definitions), MCP, model providers,
// the agents layer's extension points (interceptors, the runtime, models and prices, messages,
// in-doubt calls), and the errors agents, models and tools throw.
export type { AgentOutput, AgentMemoryOptions, AgentGuardrails, AgentGuardrail } from './agent.ts';
export type { AgentCacheOptions } from './turn-cache.ts';
export type { ToolUseBehavior, ToolCallResult, ToolsToFinalOutput } from './tool-use-behavior.ts';
export type { AgentModelStrategy, AgentTurnRequest, AgentTurnReply } from './turn-model-selection.ts';
export type { AgentsOptions } from './runtime.ts';
export type { SecretReader } from './tool.ts';
export type { AgentInput, AgentRunResult, RunAgentOptions } from './run-agent.ts';
export type { CallToolOptions } from './call-tool.ts';
export {
  McpToolError,
  McpConnectionError,
  type McpConnection,
  type McpOptions,
  type McpStdioOptions,
  type McpHttpOptions,
  type McpToolOverride,
} from './mcp.ts';
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
} from './errors.ts';

// The agents layer's extension points.
export { agentsLayer, type AgentsContext } from './agents-layer.ts';
export { hydrateHistory, type HistoryBudget, type HydrationSummary } from './history-budget.ts';
export {
  AgentRuntime,
  AgentsActivation,
  SCRUBBED_SECRET,
  type AgentsCacheSettings,
  type AgentsMemorySettings,
  type AgentAccess,
  type AgentChecks,
  type ModelStreamEvent,
} from './runtime.ts';
export { agentNeeds, type AgentNeeds } from './agent-needs.ts';
export { estimateModelTokens } from './model-call.ts';
export {
  approvalSignalName,
  type ToolCallInterceptor,
  type ModelCallInterceptor,
  type ToolCallInfo,
  type ModelCallInfo,
  type ModelCallSummary,
  type ToolVerdict,
  type ModelVerdict,
  type ToolOutcome,
  type ToolResultRewrite,
  type ParkDecision,
  type ParkOutcome,
  type DecidedEvents,
  type InterceptorContext,
  type VerdictData,
} from './interceptors.ts';
export { inDoubtSignalName, type InDoubtResolution } from './tool-call.ts';
export type { InDoubtCall } from './in-doubt.ts';
export { toolAccessInterceptor, type ToolAccessOptions } from './tool-access-interceptor.ts';
export {
  registerModelProvider,
  checkModelId,
  type ModelProvider,
  type ModelSpec,
  type LanguageModelObject,
} from './models.ts';
export {
  DEFAULT_PRICES,
  type PriceTable,
  type ModelPrice,
  type TokenUsage,
  type CallCost,
} from '../routing/prices.ts';
export {
  messageStore,
  requestMessages,
  messageHash,
  conversationHash,
  type JournalMessage,
  type RequestRef,
} from './messages.ts';
export type { AgentOverrides } from './run-overrides.ts';
