import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import type { ResolvedRetryPolicy, RetryPolicy } from '../engine/retry.ts';
import { eventDraft, type EventDraft, type JournalEventPayloads } from '../journal/events.ts';
import { authorsOf, type EventAuthors } from './agent-scope.ts';
import { interceptorContext, undecided, type DecisionState } from './call-decision.ts';
import type { InterceptorContext, ModelCallInfo } from './interceptors.ts';
import type { ConversationLedger } from './messages.ts';
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
export interface ModelCall {
  readonly ctx: WorkflowContext;
  readonly runtime: AgentRuntime;
  readonly request: ModelTurnRequest;
  readonly op: OperationHandle;
  readonly who: EventAuthors;
  /** `provider:modelId` of the request's model. */
  readonly modelName: string;
  readonly policy: ResolvedRetryPolicy;
  readonly ledger: ConversationLedger;
  readonly state: ModelCallState;
  /** The call as interceptors see it. */
  info(): ModelCallInfo;
  context(replayed: boolean): InterceptorContext;
  draft<T extends keyof JournalEventPayloads>(type: T, payload: JournalEventPayloads[T]): EventDraft;
}

export function modelCall(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ModelTurnRequest,
  policy: ResolvedRetryPolicy,
  op: OperationHandle,
): ModelCall {
  const { model, scope } = request;
  const who = authorsOf(scope);
  const state: ModelCallState = { ...undecided(), failed: new Map() };
  return {
    ctx,
    runtime,
    request,
    op,
    who,
    modelName: `${model.provider}:${model.modelId}`,
    policy,
    ledger: runtime.ledger(ctx),
    state,
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
    context: (replayed) => interceptorContext(ctx, replayed, state.verdicts),
    draft: (type, payload) => eventDraft(type, payload, who),
  };
}
