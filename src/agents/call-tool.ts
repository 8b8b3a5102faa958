import { grantOf } from '../access/run-grant.ts';
import type { WorkflowContext } from '../engine/context.ts';
import { InvalidArgumentError } from '../errors.ts';
import { wireName } from './agent.ts';
import { ToolCallFailedError } from './errors.ts';
import { runtimeOf } from './runtime.ts';
import { callToolOp, checkArgs } from './tool-call.ts';
import type { ToolDefinition } from './tool.ts';

export interface CallToolOptions {
  /** An id for the call in the journal. Default `call_<tool>`. */
  callId?: string;
}

/**
 * Calls a tool from workflow code, with everything an agent's tool call gets: argument validation
 * first, the intent journaled before it runs, interceptors, retries, and the in-doubt rules after
 * a crash (see `tool()`). Returns the result; throws ToolCallFailedError when the tool fails or is
 * denied (code TOOL_CALL_DENIED), and InvalidArgumentError for arguments that fail the schema. The
 * call is made as the workflow (`workflow:<name>`) under the run's grant; a pool it names that is
 * not configured throws UnknownPoolError before anything is journaled.
 *
 * @example const receipt = await callTool(ctx, refund, { chargeId: 'ch_1', cents: 500 });
 */
export async function callTool<Input, Output>(
  ctx: WorkflowContext,
  tool: ToolDefinition<Input, Output>,
  args: Input,
  options: CallToolOptions = {},
): Promise<Output> {
  const checked = checkArgs(tool, args);
  if (!checked.ok)
    throw new InvalidArgumentError(
      `The arguments of tool '${tool.name}' fail its schema:\n${checked.problem}`,
    );
  const name = wireName(tool.name);
  const runtime = runtimeOf(ctx);
  runtime.checkPools(tool);
  const grant = grantOf(ctx);
  const { outcome } = await callToolOp(ctx, runtime, {
    tool,
    callId: options.callId ?? `call_${name}`,
    wireName: name,
    args,
    agent: undefined,
    scope: {
      actor: ctx.identity.actor,
      onBehalfOf: [...ctx.identity.onBehalfOf],
      ...(grant === undefined ? {} : { grant }),
    },
  });
  if (outcome.ok) return outcome.result as Output;
  throw new ToolCallFailedError({
    tool: tool.name,
    message: outcome.error,
    ...(outcome.kind === 'denied'
      ? { code: 'TOOL_CALL_DENIED' }
      : outcome.kind === 'skipped'
        ? { code: 'TOOL_CALL_SKIPPED' }
        : {}),
  });
}
