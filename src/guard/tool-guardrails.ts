import type { AgentGuardrails } from '../agents/agent.ts';
import type {
  InterceptorContext,
  ToolCallInfo,
  ToolCallInterceptor,
  ToolResultRewrite,
  ToolVerdict,
} from '../agents/interceptors.ts';
import type { EventDraft, GuardVerdictRecord } from '../journal/events.ts';
import type { GuardCore } from './guard-core.ts';
import {
  toGuardrail,
  type Guardrail,
  type GuardrailContext,
  type GuardrailLike,
  type GuardStage,
} from './guardrail.ts';
import { runGuardrails } from './run-guardrails.ts';

export const GUARDRAILS_INTERCEPTOR = 'guard.guardrails';

/** Guardrails for tool calls: a list checks both the arguments and the result. */
export type ToolGuardrails =
  readonly GuardrailLike[] | { before?: readonly GuardrailLike[]; after?: readonly GuardrailLike[] };

/** The guardrails of one stage of a tool-guardrails option. */
export function toolStage(
  option: ToolGuardrails | AgentGuardrails['tools'] | undefined,
  stage: 'before' | 'after',
): Guardrail[] {
  if (option === undefined) return [];
  const list = Array.isArray(option)
    ? option
    : ((option as { before?: readonly GuardrailLike[]; after?: readonly GuardrailLike[] })[stage] ?? []);
  return (list as readonly GuardrailLike[]).map(toGuardrail);
}

/** The `guard.verdict` event of a verdict. */
export function guardVerdictEvent(
  op: number,
  name: string,
  record: GuardVerdictRecord,
  who?: { actor: string; onBehalfOf: readonly string[] },
): EventDraft<'guard.verdict'> {
  return {
    type: 'guard.verdict',
    payload: { op, name, ...record },
    ...(who ? { actor: who.actor, onBehalfOf: [...who.onBehalfOf] } : {}),
  };
}

/**
 * Tool-call guardrails as a tool interceptor: before a call, the guardrails of the run
 * (`guard.guardrails.tools`) and of the calling agent (`agent({ guardrails: { tools } })`) check its
 * arguments — a block refuses the call (the model is told why), a rewrite changes the arguments
 * (checked against the tool's schema); after it, they check the result before the model (and the
 * journal) see it — a rewrite (redaction) replaces it, a block withholds it. Every verdict is a
 * `guard.verdict` event in the call's op; passes after the call are not journaled (the result is).
 */
export function toolGuardrails(core: GuardCore, run: ToolGuardrails | undefined): ToolCallInterceptor {
  const runBefore = toolStage(run, 'before');
  const runAfter = toolStage(run, 'after');
  const guardsOf = (
    call: ToolCallInfo,
    context: InterceptorContext,
    stage: 'before' | 'after',
  ): Guardrail[] => {
    const agent =
      call.agent === undefined
        ? undefined
        : core.states.of(context.runId, core.clock()).agents.get(call.agent);
    return [...(stage === 'before' ? runBefore : runAfter), ...toolStage(agent?.guardrails?.tools, stage)];
  };
  const guardContext = (
    call: ToolCallInfo,
    context: InterceptorContext,
    stage: GuardStage,
  ): GuardrailContext => ({
    stage,
    runId: context.runId,
    workflow: context.workflow,
    tenant: context.tenant,
    principal: context.principal,
    ...(call.agent === undefined ? {} : { agent: call.agent }),
    tool: { name: call.tool.name, effect: call.tool.effect },
    models: core.models,
  });
  return {
    name: GUARDRAILS_INTERCEPTOR,
    async before(call, context): Promise<ToolVerdict | undefined> {
      const guards = guardsOf(call, context, 'before');
      if (guards.length === 0) return undefined;
      const outcome = await runGuardrails(guards, call.args, guardContext(call, context, 'tool.before'));
      if (outcome.records.length === 0) return undefined;
      const events = outcome.records.map((record) =>
        guardVerdictEvent(call.op, call.tool.name, record, call),
      );
      if (outcome.blocked) {
        return {
          type: 'deny',
          reason: `guardrail '${outcome.blocked.guardrail}' blocked the arguments: ${outcome.blocked.reason ?? 'blocked'}`,
          ...(outcome.blocked.tripwire
            ? { tripwire: true, data: { guardrail: outcome.blocked.guardrail } }
            : {}),
          events,
        };
      }
      const rewrites = outcome.records.filter((record) => record.verdict === 'rewrite');
      if (rewrites.length > 0) {
        return {
          type: 'rewrite',
          args: outcome.value,
          reason: rewrites.map((record) => `${record.guardrail}: ${record.reason}`).join('; '),
          events,
        };
      }
      return { type: 'allow', reason: 'the guardrails passed the arguments', events };
    },
    async after(call, outcome, context): Promise<ToolResultRewrite | undefined> {
      if (context.replayed || !outcome.ok) return undefined;
      const guards = guardsOf(call, context, 'after');
      if (guards.length === 0) return undefined;
      const checked = await runGuardrails(guards, outcome.result, guardContext(call, context, 'tool.after'));
      const changed =
        checked.blocked !== undefined || checked.records.some((record) => record.verdict === 'rewrite');
      if (!changed) return undefined;
      const events = checked.records.map((record) =>
        guardVerdictEvent(call.op, call.tool.name, record, call),
      );
      if (checked.blocked) {
        const reason = `guardrail '${checked.blocked.guardrail}' withheld the result: ${checked.blocked.reason ?? 'blocked'}`;
        return { type: 'rewrite', result: `The result was withheld: ${reason}.`, reason, events };
      }
      const reason = checked.records
        .filter((record) => record.verdict === 'rewrite')
        .map((record) => `${record.guardrail}: ${record.reason}`)
        .join('; ');
      return { type: 'rewrite', result: checked.value, reason, events };
    },
  };
}
