// The public surface of 'baton/agents': the agents layer's extension points (interceptors, the
// runtime, models and prices, messages, in-doubt calls). Agents, tools and their errors are in 'baton'.
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
export { checkModelId, type LanguageModelObject } from './models.ts';
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
