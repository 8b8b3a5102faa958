import type { WorkflowContext } from '../engine/context.ts';
import { runInterceptedOperation } from '../engine/intercepted-operation.ts';
import { resolveRetryPolicy } from '../engine/retry.ts';
import { attemptModelCall } from './model-call-attempt.ts';
import { decideModelCall } from './model-call-decide.ts';
import { replayModelCall } from './model-call-replay.ts';
import { DEFAULT_MODEL_RETRY, modelCall } from './model-call-state.ts';
import type { ModelTurn, ModelTurnRequest } from './model-types.ts';
import type { AgentRuntime } from './runtime.ts';

export { classifyModelError, parseRetryAfter } from './classify-model-error.ts';
export { estimateModelTokens } from './estimate-model-tokens.ts';
export { DEFAULT_MODEL_RETRY } from './model-call-state.ts';
export type {
  ModelParameters,
  ModelToolCall,
  ModelTurn,
  ModelTurnRequest,
  ToolOffer,
} from './model-types.ts';

/**
 * One model call as a durable op (`llm:<agent>`), an intercepted operation
 * (src/engine/intercepted-operation.ts) whose phases live in their own files:
 *
 * - replay (model-call-replay.ts): a completed call is never sent again; its recorded response is
 *   returned. A call in flight at a crash (its `llm.started` and no outcome) is sent again.
 * - decide (model-call-decide.ts): the model interceptors allow, deny (ModelCallDeniedError) or park.
 * - attempt (model-call-attempt.ts): the request is sent as a stream (deltas go to the runtime's
 *   live listeners), from the semantic cache or to the models routing chooses; failed attempts are
 *   journaled (`llm.attempt.failed`) and retried with backoff honouring Retry-After; a call that
 *   fails for good is journaled (`llm.failed`) and throws ModelCallFailedError.
 * - commit (model-call-commit.ts): the final response in one `llm.called` event with the request
 *   by reference, the new messages, usage, cost and latency.
 */
export function callModel(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ModelTurnRequest,
): Promise<ModelTurn> {
  const policy = resolveRetryPolicy(request.retry ?? DEFAULT_MODEL_RETRY);
  return runInterceptedOperation(ctx.operations, {
    describe: `llm:${request.agent}`,
    replay: (op) => replayModelCall(modelCall(ctx, runtime, request, policy, op)),
    decide: (_op, state) => decideModelCall(state),
    attempt: (_op, state) => attemptModelCall(state),
  });
}
