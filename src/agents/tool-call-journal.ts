import { createHash } from 'node:crypto';
import { zod } from '../lazy-module.ts';
import { redact } from '../access/redact.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEvent, VerdictRecord } from '../journal/events.ts';
import { TripwireTriggeredError } from './errors.ts';
import type { ToolOutcome } from './interceptors.ts';
import type { JournalMessage } from './messages.ts';
import type { AgentRuntime } from './runtime.ts';
import type { ToolDefinition } from './tool.ts';

/** What a tool call journals and reads back: result messages, arguments and verdicts as journaled, call hashes. */

/** The tool-result message the model gets for an outcome. */
export function toolResultMessage(callId: string, wireName: string, outcome: ToolOutcome): JournalMessage {
  const output = outcome.ok
    ? typeof outcome.result === 'string'
      ? { type: 'text' as const, value: outcome.result }
      : { type: 'json' as const, value: (outcome.result ?? null) as never }
    : { type: 'error-text' as const, value: outcome.error };
  return { role: 'tool', content: [{ type: 'tool-result', toolCallId: callId, toolName: wireName, output }] };
}

/** The outcome a tool-result message carries (for replay). */
export function outcomeOfMessage(
  message: JournalMessage,
  kind: 'failed' | 'denied' | 'skipped' = 'failed',
): ToolOutcome {
  const part = (message.content as { type: string; output?: { type: string; value?: unknown } }[])[0];
  const output = part?.output;
  if (!output) return { ok: false, error: 'missing result', kind };
  if (output.type === 'error-text') return { ok: false, error: String(output.value), kind };
  return { ok: true, result: output.value };
}

/** The arguments as journaled: the tool's `redact` fields replaced. */
export function journalArgs(tool: ToolDefinition, args: unknown): unknown {
  return tool.redact.length === 0 ? args : redact(args, tool.redact);
}

/** A verdict as journaled: rewritten arguments with the tool's `redact` fields replaced. */
export function redactedRecord(tool: ToolDefinition, record: VerdictRecord): VerdictRecord {
  return record.args === undefined || tool.redact.length === 0
    ? record
    : { ...record, args: redact(record.args, tool.redact) };
}

/** A tool's value as the model (and the journal) may see it: secrets scrubbed, `redactResult` fields replaced. */
export function resultForModel(runtime: AgentRuntime, tool: ToolDefinition, value: unknown): unknown {
  const scrubbed = runtime.scrub(value);
  return tool.redactResult.length === 0 ? scrubbed : redact(scrubbed, tool.redactResult);
}

/** What the model is told about a denial; built from the journaled verdict, so replay says the same. */
/** The error a tripwire deny stops the agent with. */
export function tripwireError(record: VerdictRecord, tool: string): TripwireTriggeredError {
  const guardrail = (record.data as { guardrail?: unknown } | undefined)?.guardrail;
  return new TripwireTriggeredError({
    by: typeof guardrail === 'string' ? guardrail : record.interceptor,
    stage: 'tool.before',
    reason: record.reason ?? 'denied',
    target: `tool '${tool}'`,
  });
}

export function denialText(record: Pick<VerdictRecord, 'interceptor' | 'reason' | 'data'>): string {
  const by = typeof record.data?.by === 'string' ? ` (${record.data.by})` : '';
  return `${record.interceptor}${by}: ${record.reason ?? 'denied'}`;
}

/** Checks arguments against the tool's input schema, with a message a model can act on. */
export function checkArgs(
  tool: ToolDefinition,
  args: unknown,
): { ok: true } | { ok: false; problem: string } {
  const parsed = tool.input.safeParse(args);
  if (parsed.success) return { ok: true };
  return { ok: false, problem: zod().prettifyError(parsed.error) };
}

/** A tool call's verdicts as journaled (`tool.verdict`, rewritten arguments redacted), each followed by its interceptor's events. */
export function recordedMessage(event: JournalEvent): JournalMessage {
  const message = (event.payload as { messages?: JournalMessage[] }).messages?.[0];
  if (!message) throw new Error(`Event seq ${event.seq} (${event.type}) holds no result message.`);
  return message;
}

/** Why a tool-result message cannot be journaled (not JSON, too large), or undefined. */
export function journalProblem(message: JournalMessage, limit: number): string | undefined {
  try {
    const bytes = Buffer.byteLength(canonicalJson(message, 'The tool result'));
    if (bytes > limit) {
      return `The tool's result is ${bytes} bytes, over the journal's limit of ${limit} bytes; return a reference to large data instead.`;
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The canonical hash of a tool call: the tool, its arguments, who calls it (actor and the chain it
 * acts for) and the grant it holds. An approval names the hash of the call it was asked for, and of
 * the call it approved when the approver edited the arguments, so the decision binds one exact call.
 */
export function toolCallHash(
  tool: string,
  args: unknown,
  who: { actor: string; onBehalfOf: readonly string[] },
  grantId: string | undefined,
): string {
  const call = {
    tool,
    args: args ?? null,
    actor: who.actor,
    onBehalfOf: who.onBehalfOf,
    grant: grantId ?? null,
  };
  return createHash('sha256')
    .update(canonicalJson(call, `The call of tool '${tool}'`))
    .digest('hex');
}
