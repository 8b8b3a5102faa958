import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import type { ResolvedRetryPolicy } from '../engine/retry.ts';
import {
  eventDraft,
  type EventDraft,
  type JournalEventPayloads,
  type VerdictRecord,
} from '../journal/events.ts';
import { authorsOf, type AgentScope, type EventAuthors } from './agent-scope.ts';
import { interceptorContext, type DecisionState } from './call-decision.ts';
import type { InterceptorContext, PendingVerdict } from './interceptors.ts';
import type { ConversationLedger } from './messages.ts';
import type { AgentRuntime } from './runtime.ts';

/**
 * What every phase of an intercepted call needs of it, model call or tool call alike
 * (src/engine/intercepted-operation.ts): its workflow, runtime, request and op, who journals it,
 * its retry policy and conversation ledger, and where its decision stands.
 */
export interface InterceptedCall<Request, State extends DecisionState> {
  readonly ctx: WorkflowContext;
  readonly runtime: AgentRuntime;
  readonly request: Request;
  readonly op: OperationHandle;
  readonly who: EventAuthors;
  readonly policy: ResolvedRetryPolicy;
  readonly ledger: ConversationLedger;
  readonly state: State;
  /** What the call's interceptors are told (its verdicts so far included). */
  context(replayed: boolean): InterceptorContext;
  /** An event of the call, authored by its agent on behalf of its principals. */
  draft<T extends keyof JournalEventPayloads>(type: T, payload: JournalEventPayloads[T]): EventDraft;
  /** One of the call's verdicts as journaled (`llm.verdict`, `tool.verdict`). */
  verdictDraft(record: VerdictRecord): EventDraft;
}

/** The parts of a model or tool call that do not depend on its kind (model-call-state.ts, tool-call-state.ts). */
export function interceptedCall<Request extends { scope: AgentScope }, State extends DecisionState>(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: Request,
  policy: ResolvedRetryPolicy,
  op: OperationHandle,
  state: State,
): Omit<InterceptedCall<Request, State>, 'verdictDraft'> {
  const who = authorsOf(request.scope);
  return {
    ctx,
    runtime,
    request,
    op,
    who,
    policy,
    ledger: runtime.ledger(ctx),
    state,
    context: (replayed) => interceptorContext(ctx, replayed, state.verdicts),
    draft: (type, payload) => eventDraft(type, payload, who),
  };
}

/** Interceptors' verdicts as the call journals them: each verdict's event, then the events its interceptor added. */
export function verdictEvents(
  call: Pick<InterceptedCall<unknown, DecisionState>, 'verdictDraft'>,
  verdicts: readonly PendingVerdict[],
): EventDraft[] {
  return verdicts.flatMap((verdict) => [call.verdictDraft(verdict.record), ...verdict.events]);
}
