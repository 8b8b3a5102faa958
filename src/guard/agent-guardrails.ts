import type { AgentDefinition } from '../agents/agent.ts';
import type { JournalMessage } from '../agents/messages.ts';
import type { AgentChecks } from '../agents/runtime.ts';
import type { WorkflowContext } from '../engine/context.ts';
import type { GuardVerdictRecord } from '../journal/events.ts';
import type { GuardCore } from './guard-core.ts';
import { toGuardrail, type Guardrail, type GuardrailLike, type GuardStage } from './guardrail.ts';
import { blockedError, runGuardrails } from './run-guardrails.ts';
import { guardVerdictEvent } from './tool-guardrails.ts';

/**
 * Agents' input and output guardrails, as the agents layer's checks: the run's
 * (`guard.guardrails.agentInput` / `agentOutput`) and then the agent's own (`agent({ guardrails })`).
 * Each check is a durable op (`guard:<agent>`) whose `guard.verdict` events are committed before
 * the agent goes on, so a replay returns the recorded verdicts (a judge is not asked again). A
 * block throws GuardrailBlockedError: the agent does not start, or its answer is not returned.
 * With no guardrails for an agent, no op is taken.
 */
export function agentGuardrails(
  core: GuardCore,
  run: { input?: readonly GuardrailLike[]; output?: readonly GuardrailLike[] },
): AgentChecks {
  const runInput = (run.input ?? []).map(toGuardrail);
  const runOutput = (run.output ?? []).map(toGuardrail);
  return {
    async input(ctx, agent, task) {
      core.states.of(ctx.runId, core.clock()).registerAgent(agent);
      const guards = [
        ...runInput,
        ...(agent.guardrails?.input ?? []).map((like) => toGuardrail(like as GuardrailLike)),
      ];
      if (guards.length === 0) return task;
      const text = messageText(task);
      const value = await check(core, ctx, agent, 'agent.input', text, guards);
      return value === text
        ? task
        : {
            role: 'user',
            content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
          };
    },
    async output(ctx, agent, answer) {
      const guards = [
        ...runOutput,
        ...(agent.guardrails?.output ?? []).map((like) => toGuardrail(like as GuardrailLike)),
      ];
      if (guards.length === 0) return answer;
      const value = await check(core, ctx, agent, 'agent.output', answer.output, guards);
      if (value === answer.output) return answer;
      return { output: value, text: typeof value === 'string' ? value : JSON.stringify(value) };
    },
  };
}

async function check(
  core: GuardCore,
  ctx: WorkflowContext,
  agent: AgentDefinition<any>,
  stage: GuardStage,
  value: unknown,
  guards: readonly Guardrail[],
): Promise<unknown> {
  return ctx.operations.run(`guard:${agent.name}`, async (op) => {
    const recorded = op.recorded
      .filter((event) => event.type === 'guard.verdict')
      .map((event) => event.payload);
    if (recorded.length > 0) return replay(recorded, value, agent.name);
    const outcome = await op.active(() =>
      runGuardrails(
        guards,
        value,
        {
          stage,
          runId: ctx.runId,
          workflow: ctx.workflow,
          tenant: ctx.tenant,
          principal: ctx.principal,
          agent: agent.name,
          models: core.models,
        },
        { keepValues: true },
      ),
    );
    await op.append(outcome.records.map((record) => guardVerdictEvent(op.op, agent.name, record)));
    if (outcome.blocked) throw blockedError(outcome.blocked, `agent '${agent.name}'`);
    return outcome.value;
  });
}

/** The value the recorded verdicts let through (the last rewrite's), or their block. */
function replay(records: readonly GuardVerdictRecord[], value: unknown, agent: string): unknown {
  let current = value;
  for (const record of records) {
    if (record.verdict === 'block') throw blockedError(record, `agent '${agent}'`);
    if (record.verdict === 'rewrite') current = record.value;
  }
  return current;
}

function messageText(message: JournalMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  return (content as { type: string; text?: string }[])
    .filter((part) => part.type === 'text')
    .map((part) => part.text ?? '')
    .join('');
}
