import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import type { ResolvedRetryPolicy, RetryPolicy } from '../engine/retry.ts';
import { undecided, type DecisionState } from './call-decision.ts';
import { interceptedCall, type InterceptedCall } from './intercepted-call.ts';
import type { ModelCallInfo } from './interceptors.ts';
import type { ModelTurnRequest } from './model-types.ts';
import type { AgentRuntime } from './runtime.ts';

/** Model calls retry 429, 5xx, timeouts and broken connections: 4 attempts, 1 s, 2 s, 4 s (at least Retry-After). */
export const DEFAULT_MODEL_RETRY: RetryPolicy = {
  maxAttempts: 4,
  initialDelay: '1s',
  backoffCoefficient: 2,
  maxDelay: '60s',
};

/** Where a model call stands: its decision, and the last journaled failed attempt of each model (a routed turn may try several). */
export interface ModelCallState extends DecisionState {
  failed: Map<string, { attempt: number; retryAt: number }>;
}

/** One model call in progress: what every phase needs of it (src/agents/model-call.ts). */
export interface ModelCall extends InterceptedCall<ModelTurnRequest, ModelCallState> {
  /** `provider:modelId` of the request's model. */
  readonly modelName: string;
  /** The call as interceptors see it. */
  info(): ModelCallInfo;
}

export function modelCall(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ModelTurnRequest,
  policy: ResolvedRetryPolicy,
  op: OperationHandle,
): ModelCall {
  const { model, scope } = request;
  const state: ModelCallState = { ...undecided(), failed: new Map() };
  const call = interceptedCall(ctx, runtime, request, policy, op, state);
  const { who } = call;
  return {
    ...call,
    modelName: `${model.provider}:${model.modelId}`,
    info: () => ({
      runId: ctx.runId,
      op: op.op,
      agent: request.agent,
      actor: who.actor,
      onBehalfOf: who.onBehalfOf,
      grant: scope.grant,
      provider: model.provider,
      modelId: model.modelId,
      messages: request.messages,
      tools: request.tools.map((offer) => offer.name),
      parameters: request.parameters as Record<string, unknown>,
      turn: request.turn,
    }),
    verdictDraft: (record) => call.draft('llm.verdict', { op: op.op, name: request.agent, ...record }),
  };
}
