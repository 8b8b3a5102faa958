import type { WorkflowContext } from '../engine/context.ts';
import { runInterceptedOperation } from '../engine/intercepted-operation.ts';
import { resolveRetryPolicy } from '../engine/retry.ts';
import type { AgentRuntime } from './runtime.ts';
import { attemptToolCall } from './tool-call-attempt.ts';
import { decideToolCall } from './tool-call-decide.ts';
import { replayToolCall } from './tool-call-replay.ts';
import { toolCall } from './tool-call-state.ts';
import type { ToolCallRequest, ToolCallResult } from './tool-call-types.ts';

export type { AgentScope } from './agent-scope.ts';
export {
  checkArgs,
  journalArgs,
  outcomeOfMessage,
  toolCallHash,
  toolResultMessage,
} from './tool-call-journal.ts';
export {
  inDoubtSignalName,
  type InDoubtResolution,
  type ToolCallRequest,
  type ToolCallResult,
} from './tool-call-types.ts';

/**
 * One tool call as a durable op (`tool:<name>`), effectively once, an intercepted operation
 * (src/engine/intercepted-operation.ts) whose phases live in their own files:
 *
 * 1. Before it runs (tool-call-decide.ts): interceptors decide (allow / deny / rewrite / park); the
 *    intent (`tool.requested`, with the caller's grant id and the tool's `redact` fields replaced)
 *    and the verdicts are committed together, just before the first attempt runs.
 * 2. It runs (tool-call-attempt.ts), holding a slot of the tool's pool when it names one (a long
 *    wait for the slot parks the run; nothing of the attempt is journaled until it has its slot, so
 *    a parked call is not in doubt). Its result (`tool.called`, holding the tool-result message) or
 *    failure (`tool.failed`) is committed; secret values handed to the tool are scrubbed from both,
 *    and `redactResult` fields are replaced. Failed attempts are retried by the tool's policy
 *    (`tool.attempt.failed`, `tool.retried`).
 * 3. After a crash between an attempt's start and its result (tool-call-replay.ts, tool-in-doubt.ts),
 *    the call is in doubt (`tool.inDoubt`): `read` tools and `idempotent` tools run again with the
 *    same idempotency key; any other tool, and any call whose real arguments were redacted away,
 *    parks the run until `baton.resolveInDoubt` sends `baton.resolve:<op>` (`tool.resolved`).
 *    Nothing runs twice silently.
 */
export function callToolOp(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ToolCallRequest,
): Promise<ToolCallResult> {
  const policy = resolveRetryPolicy(request.tool.retry ?? { maxAttempts: 1 });
  return runInterceptedOperation(ctx.operations, {
    describe: `tool:${request.tool.name}`,
    replay: (op) => replayToolCall(toolCall(ctx, runtime, request, policy, op)),
    decide: (_op, call) => decideToolCall(call),
    attempt: (_op, call) => attemptToolCall(call),
  });
}
