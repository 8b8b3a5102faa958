import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { z } from 'zod';
import { zod } from '../lazy-module.ts';
import { grantOf } from '../access/run-grant.ts';
import type { Authorizer } from '../access/access-request.ts';
import { authorizeDelegationInOperation, recordedDelegation } from '../access/authorize-delegation.ts';
import { delegate } from '../access/delegate.ts';
import { GRANT_AUTHORIZER } from '../access/grant-authorizer.ts';
import { parseGrant, type Grant } from '../access/grant.ts';
import { identityChain } from '../access/identity-chain.ts';
import { redact } from '../access/redact.ts';
import { explainDecision } from '../access/explain-decision.ts';
import type { OperationHandle, WorkflowContext } from '../engine/context.ts';
import { BatonError, InvalidArgumentError, serializeErrorWithoutStack } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import { eventDraft, type EventDraft, type JournalEventPayloads } from '../journal/events.ts';
import { agentToolInput, handoffInput, toolTable, type AgentDefinition, type OfferedTool } from './agent.ts';
import { recallForAgent, withMemories } from './agent-memory.ts';
import { agentNeeds } from './agent-needs.ts';
import {
  HandoffLimitError,
  MaxTurnsExceededError,
  StructuredOutputError,
  TooManyInvalidToolCallsError,
} from './errors.ts';
import { hydrateHistory } from './history-budget.ts';
import type { ToolOutcome } from './interceptors.ts';
import { messageHash, type JournalMessage } from './messages.ts';
import { callModel, type ModelToolCall, type ModelTurn } from './model-call.ts';
import type { TokenUsage } from '../routing/prices.ts';
import { runtimeOf, type AgentRuntime } from './runtime.ts';
import { agentOverrides } from './run-overrides.ts';
import type { AgentScope } from './agent-scope.ts';
import { callToolOp, checkArgs, outcomeOfMessage, toolResultMessage } from './tool-call.ts';
import { finalToolOutput, type ToolCallResult } from './tool-use-behavior.ts';
import { agentTurnCache, type TurnCache } from './turn-cache.ts';
import { roundUsd } from '../rounding.ts';
import { strategyChoices, type AgentModelStrategy } from './turn-model-selection.ts';

/** What an agent is asked: a task and, optionally, facts it should know (any JSON). A string is a task. */
export type AgentInput = string | { task: string; context?: unknown };

export interface AgentRunResult<Output = string> {
  /** The final answer: text, or the parsed structured output when the agent has an `output` schema. */
  output: Output;
  /** The final answer's text. */
  text: string;
  /** The agent that gave the final answer (after handoffs). */
  agent: string;
  /** Model calls made, across handoffs (not counting agents called as tools). */
  turns: number;
  usage: TokenUsage;
  costUsd: number;
}

export interface RunAgentOptions {
  /** Handoffs allowed in this run of the loop. Default 8. */
  maxHandoffs?: number;
  /**
   * The grant the agent is narrowed from, instead of the workflow's: one delegated from it (see
   * `delegate`), e.g. a planned task's grant. The agent still gets only what it needs of it.
   */
  grant?: Grant;
}

/** Errors of an agent that go back to a calling agent as a tool error, instead of failing the caller. */
const AGENT_ERROR_CODES = new Set([
  'MAX_TURNS_EXCEEDED',
  'INVALID_TOOL_CALLS',
  'STRUCTURED_OUTPUT_INVALID',
  'MODEL_CALL_FAILED',
  'MODEL_CALL_DENIED',
  'HANDOFF_LIMIT',
  'GUARDRAIL_BLOCKED',
  // The agent could not be given a grant narrower than its caller's (src/access/delegate.ts).
  'DELEGATION_WIDENS',
  'DELEGATION_DEPTH',
  'GRANT_EXPIRED',
]);

/** Errors journaled as the agent's `agent.failed`: the ones above, and a tripwire (which is not turned into a tool error). */
const JOURNALED_FAILURES = new Set([...AGENT_ERROR_CODES, 'TRIPWIRE_TRIGGERED']);

interface Invocation {
  via: 'run' | 'handoff' | 'tool';
  from?: string;
  callId?: string;
}

/**
 * Runs an agent's loop — reason (a model call), act (its tool calls, concurrently), observe (the
 * results go back to the model) — until it answers, hands off, or fails. Every model call, tool
 * call, handoff and sub-agent is a journaled op, so after a crash the loop replays from the journal
 * without calling the model again or repeating a tool (see callToolOp for tools in doubt).
 *
 * Failure semantics: `maxTurns` exceeded throws MaxTurnsExceededError; a model call that fails
 * for good throws ModelCallFailedError; too many invalid tool calls or answers throw; each is
 * journaled as `agent.failed` and may be caught by the workflow. Tool failures go back to the model.
 *
 * The tool calls of one response run concurrently, agents called as tools included; each agent's
 * loop is a container op, so replay hands its inner results back in the order they first finished.
 *
 * Access: the agent acts as `agent:<name>` under the run's grant narrowed to what it needs (its
 * declared `needs`, or what its tools, agents and handoffs need); a declared need the run's grant
 * lacks fails it with DelegationWidensError, journaled as `agent.failed`. Its handoffs and the agents
 * it calls as tools are authorized (HandOff) and narrowed again; a refusal goes back to the model.
 * Every pool its calls name is checked before it starts (UnknownPoolError).
 *
 * @example
 * const { output, costUsd } = await runAgent(ctx, billing, { task: ticket.text, context: account });
 */
export async function runAgent<Output>(
  ctx: WorkflowContext,
  agent: AgentDefinition<Output>,
  input: AgentInput,
  options: RunAgentOptions = {},
): Promise<AgentRunResult<Output>> {
  const runtime = runtimeOf(ctx);
  runtime.checkPools(agent);
  // The caller's grant: agentOp narrows it to what this agent needs.
  const grant = options.grant ?? grantOf(ctx);
  const scope: AgentScope = {
    actor: `agent:${agent.name}`,
    onBehalfOf: [ctx.identity.actor, ...ctx.identity.onBehalfOf],
    ...(grant === undefined ? {} : { grant }),
  };
  return runChain(
    ctx,
    runtime,
    agent,
    taskMessage(agent, input),
    scope,
    { via: 'run' },
    options.maxHandoffs ?? 8,
  );
}

async function runChain<Output>(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  first: AgentDefinition<Output>,
  task: JournalMessage,
  firstScope: AgentScope,
  invocation: Invocation,
  maxHandoffs: number,
): Promise<AgentRunResult<Output>> {
  const checks = runtime.agentChecks;
  if (checks?.input) task = await checks.input(ctx, first, task);
  let current: AgentDefinition<any> = first;
  let scope = firstScope;
  let conversation: JournalMessage[] = [task];
  let via = invocation;
  const path = [first.name];
  let turns = 0;
  let costUsd = 0;
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  for (;;) {
    const outcome = await agentOp(ctx, runtime, current, scope, conversation, task, via);
    turns += outcome.turns;
    costUsd += outcome.costUsd;
    usage.inputTokens += outcome.usage.inputTokens;
    usage.outputTokens += outcome.usage.outputTokens;
    if (outcome.kind === 'answered') {
      const answer = checks?.output
        ? await checks.output(ctx, current, { text: outcome.text, output: outcome.output })
        : { text: outcome.text, output: outcome.output };
      return {
        output: answer.output as Output,
        text: answer.text,
        agent: current.name,
        turns,
        usage,
        costUsd: roundUsd(costUsd),
      };
    }
    path.push(outcome.to.name);
    if (path.length - 1 > maxHandoffs)
      throw new HandoffLimitError({ agent: first.name, limit: maxHandoffs, path });
    via = { via: 'handoff', from: current.name, callId: outcome.callId };
    scope = {
      actor: `agent:${outcome.to.name}`,
      onBehalfOf: [scope.actor, ...scope.onBehalfOf],
      ...(outcome.grant === undefined ? {} : { grant: outcome.grant }),
    };
    conversation = outcome.conversation;
    current = outcome.to;
  }
}

type AgentOutcome =
  | { kind: 'answered'; output: unknown; text: string; turns: number; usage: TokenUsage; costUsd: number }
  | {
      kind: 'handoff';
      to: AgentDefinition<any>;
      callId: string;
      /** The grant the target receives (the handing-off agent's, narrowed). */
      grant: Grant | undefined;
      conversation: JournalMessage[];
      turns: number;
      usage: TokenUsage;
      costUsd: number;
    };

type Plan =
  | {
      kind: 'tool';
      call: ModelToolCall;
      offer: OfferedTool & { target: { kind: 'tool' } };
      argsRedacted: boolean;
    }
  | { kind: 'agent'; call: ModelToolCall; offer: OfferedTool & { target: { kind: 'agent' } }; task: string }
  | { kind: 'handoff'; call: ModelToolCall; to: AgentDefinition<any> }
  | { kind: 'invalid'; call: ModelToolCall; problem: string };

/** One agent's loop in progress: what each turn needs, and what the turns so far add up to. */
interface AgentLoop {
  readonly ctx: WorkflowContext;
  readonly runtime: AgentRuntime;
  readonly agent: AgentDefinition<any>;
  readonly op: OperationHandle;
  readonly scope: AgentScope;
  readonly model: LanguageModelV4;
  readonly table: ReadonlyMap<string, OfferedTool>;
  readonly offers: readonly OfferedTool[];
  /** The conversation: the system prompt, the task, then the turns. */
  readonly messages: JournalMessage[];
  readonly routing: AgentModelStrategy | undefined;
  readonly cache: TurnCache | undefined;
  readonly responseSchema: Record<string, unknown> | undefined;
  readonly draft: <T extends keyof JournalEventPayloads>(
    type: T,
    payload: JournalEventPayloads[T],
  ) => EventDraft;
  /** Journals how the loop ended, unless the journal already holds it. */
  readonly end: (event: EventDraft) => Promise<void>;
  turns: number;
  invalidCalls: number;
  invalidAnswers: number;
  costUsd: number;
  usage: TokenUsage;
}

/** One agent's loop as an op (`agent:<name>`): `agent.started`, its turns, then how it ended. */
function agentOp(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  agent: AgentDefinition<any>,
  callerScope: AgentScope,
  conversation: readonly JournalMessage[],
  task: JournalMessage,
  invocation: Invocation,
): Promise<AgentOutcome> {
  const who = { actor: callerScope.actor, onBehalfOf: [...callerScope.onBehalfOf] };
  const draft = <T extends keyof JournalEventPayloads>(
    type: T,
    payload: JournalEventPayloads[T],
  ): EventDraft => eventDraft(type, payload, who);
  return ctx.operations.run(
    `agent:${agent.name}`,
    async (op) => {
      const started = startLoop(ctx, runtime, agent, op, callerScope, conversation, task, invocation, draft);
      if ('failed' in started) return started.failed;
      const loop = started.loop;
      // Long-term memory recalled for the task (journaled), read at the end of the system prompt.
      if (agent.memory?.recall)
        loop.messages[0] = withMemories(loop.messages[0]!, await recallForAgent(ctx, runtime, agent, task));
      try {
        return await runTurns(loop);
      } catch (error) {
        if (BatonError.isInstance(error) && JOURNALED_FAILURES.has(error.code) && !op.signal.aborted) {
          const serialized = serializeErrorWithoutStack(error);
          await loop.end(
            draft('agent.failed', { op: op.op, name: agent.name, turns: loop.turns, error: serialized }),
          );
        }
        throw error;
      }
    },
    { container: true },
  );
}

/**
 * Starts (or, on replay, resumes) an agent's loop: its grant, model, tools and conversation, and
 * `agent.started` (buffered with the loop's first write) when the journal does not hold it.
 */
function startLoop(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  agent: AgentDefinition<any>,
  op: OperationHandle,
  callerScope: AgentScope,
  conversation: readonly JournalMessage[],
  task: JournalMessage,
  invocation: Invocation,
  draft: AgentLoop['draft'],
): { loop: AgentLoop } | { failed: Promise<never> } {
  const ledger = runtime.ledger(ctx);
  const ended = op.recorded.some(
    (event) => event.type !== 'agent.started' && event.type !== 'access.decided',
  );
  // Called from workflow code, the agent narrows the workflow's grant itself; handed off to or
  // called as a tool, it was given its grant by the decision that allowed it.
  const delegated =
    invocation.via === 'run'
      ? agentGrant(op, runtime, agent, callerScope.grant, draft)
      : { grant: callerScope.grant };
  if ('failed' in delegated) return delegated;
  const grant = delegated.grant;
  const scope: AgentScope = { ...callerScope, ...(grant === undefined ? {} : { grant }) };
  const overridden = agentOverrides(ctx, agent);
  const model = runtime.resolveModel(overridden.model ?? agent.model, agent.name);
  const table = toolTable(agent);
  const offers = [...table.values()];
  const system: JournalMessage = { role: 'system', content: overridden.instructions ?? agent.instructions };
  const messages: JournalMessage[] = [system, ...conversation];
  const started = op.recorded.find((event) => event.type === 'agent.started');
  if (started) {
    ledger.noteStored(started.payload.messages);
  } else {
    op.buffer(
      draft('agent.started', {
        op: op.op,
        name: agent.name,
        model: `${model.provider}:${model.modelId}`,
        via: invocation.via,
        ...(invocation.from === undefined ? {} : { from: invocation.from }),
        ...(invocation.callId === undefined ? {} : { callId: invocation.callId }),
        maxTurns: agent.maxTurns,
        tools: offers.map((offer) => offer.name),
        task: messageHash(task),
        messages: ledger.store(messages),
        ...(grant === undefined ? {} : { grant: { ...grant, actions: [...grant.actions] } }),
      }),
    );
  }
  // Routing chooses each turn's model, unless a fork overrides the model; the cache is scoped to either.
  const routing = overridden.model === undefined ? agent.routing : undefined;
  const cache = agentTurnCache(
    agent,
    runtime.cache,
    table,
    routing
      ? `routing:${strategyChoices(routing)
          .map((choice) => choice.id)
          .join(',')}`
      : `${model.provider}:${model.modelId}`,
  );
  const responseSchema = agent.output ? jsonSchemaOf(agent.output) : undefined;
  return {
    loop: {
      ctx,
      runtime,
      agent,
      op,
      scope,
      model,
      table,
      offers,
      messages,
      routing,
      cache,
      responseSchema,
      draft,
      end: async (event) => {
        if (!ended) await op.append([event]);
      },
      turns: 0,
      invalidCalls: 0,
      invalidAnswers: 0,
      costUsd: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
    },
  };
}

/** Reason, act, observe: turns until the agent answers, hands off, or fails. */
async function runTurns(loop: AgentLoop): Promise<AgentOutcome> {
  const { agent } = loop;
  for (;;) {
    if (loop.turns >= agent.maxTurns)
      throw new MaxTurnsExceededError({ agent: agent.name, maxTurns: agent.maxTurns });
    loop.turns++;
    const turn = await modelTurn(loop);
    const outcome = turn.toolCalls.length === 0 ? await answer(loop, turn) : await actOnCalls(loop, turn);
    if (outcome) return outcome;
  }
}

/** One model call of the loop, its reply added to the conversation and its usage to the totals. */
async function modelTurn(loop: AgentLoop): Promise<ModelTurn> {
  const { agent, messages } = loop;
  // Selective hydration: a history over the agent's budget is sent in part.
  const sent = agent.historyBudget
    ? await hydrateHistory(messages, agent.historyBudget)
    : { messages: [...messages], summary: undefined };
  const turn: ModelTurn = await callModel(loop.ctx, loop.runtime, {
    agent: agent.name,
    model: loop.model,
    scope: loop.scope,
    messages: sent.messages,
    ...(sent.summary ? { hydration: sent.summary } : {}),
    ...(loop.routing ? { routing: loop.routing } : {}),
    ...(loop.cache ? { cache: loop.cache } : {}),
    tools: loop.offers.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
    parameters: agent.parameters,
    ...(agent.providerOptions ? { providerOptions: agent.providerOptions } : {}),
    ...(loop.responseSchema ? { responseSchema: loop.responseSchema } : {}),
    ...(agent.retry ? { retry: agent.retry } : {}),
    timeoutMs: agent.timeoutMs,
    turn: loop.turns,
    ...(agent.pool === undefined ? {} : { pool: agent.pool }),
    redactToolCall: (name, input) => redactedCall(loop.table, name, input),
  });
  messages.push(turn.message);
  loop.costUsd += turn.cost.usd;
  loop.usage.inputTokens += turn.usage.inputTokens;
  loop.usage.outputTokens += turn.usage.outputTokens;
  return turn;
}

/** A reply without tool calls: the answer, or (when it fails the output schema) another try. */
async function answer(loop: AgentLoop, turn: ModelTurn): Promise<AgentOutcome | undefined> {
  const { agent, op, turns, usage, costUsd } = loop;
  const final = finalAnswer(agent, turn.text);
  if (final.ok) {
    await loop.end(
      loop.draft('agent.completed', {
        op: op.op,
        name: agent.name,
        turns,
        message: messageHash(turn.message),
        usage,
        costUsd: roundUsd(costUsd),
      }),
    );
    return { kind: 'answered', output: final.value, text: turn.text, turns, usage, costUsd };
  }
  loop.invalidAnswers++;
  if (loop.invalidAnswers > agent.maxInvalidToolCalls) {
    throw new StructuredOutputError({
      agent: agent.name,
      attempts: loop.invalidAnswers,
      problem: final.problem,
    });
  }
  loop.messages.push({
    role: 'user',
    content: [
      {
        type: 'text',
        text: `Your answer is not valid: ${final.problem}\nAnswer again with only a JSON value that matches the schema.`,
      },
    ],
  });
  return undefined;
}

/** A reply's tool calls run and observed: a handoff or a tool's final output ends the loop. */
async function actOnCalls(loop: AgentLoop, turn: ModelTurn): Promise<AgentOutcome | undefined> {
  const { agent, op, messages } = loop;
  const plans = planCalls(turn.toolCalls, loop.table);
  const { messages: results, handoff } = await act(loop.ctx, loop.runtime, op, agent, loop.scope, plans);
  messages.push(...results);
  const invalid = plans.filter((plan): plan is Plan & { kind: 'invalid' } => plan.kind === 'invalid');
  loop.invalidCalls += invalid.length;
  if (invalid.length > 0 && loop.invalidCalls > agent.maxInvalidToolCalls) {
    throw new TooManyInvalidToolCallsError({
      agent: agent.name,
      count: loop.invalidCalls,
      last: invalid.at(-1)!.problem,
    });
  }
  const { turns, usage, costUsd } = loop;
  if (handoff) {
    await loop.end(
      loop.draft('agent.handedOff', {
        op: op.op,
        name: agent.name,
        to: handoff.to.name,
        callId: handoff.callId,
        turns,
      }),
    );
    return {
      kind: 'handoff',
      to: handoff.to,
      callId: handoff.callId,
      grant: handoff.grant,
      conversation: messages.slice(1),
      turns,
      usage,
      costUsd,
    };
  }
  // toolUseBehavior: a tool's result may be the agent's answer, without another model call.
  const stop = finalToolOutput(agent.toolUseBehavior, toolCallResults(plans, results));
  if (!stop) return undefined;
  const text = typeof stop.output === 'string' ? stop.output : canonicalJson(stop.output ?? null);
  const by =
    stop.by === undefined
      ? undefined
      : results[plans.findIndex((plan) => plan.call.callId === stop.by!.callId)];
  await loop.end(
    loop.draft('agent.completed', {
      op: op.op,
      name: agent.name,
      turns,
      message: messageHash(by ?? results[results.length - 1]!),
      usage,
      costUsd: roundUsd(costUsd),
      stoppedBy: {
        ...(stop.by === undefined ? {} : { tool: stop.by.name, callId: stop.by.callId }),
        output: stop.output ?? null,
      },
    }),
  );
  return { kind: 'answered', output: stop.output, text, turns, usage, costUsd };
}

/** The results of a response's tool calls (tools only: not agents, handoffs or invalid calls), in call order. */
function toolCallResults(plans: readonly Plan[], messages: readonly JournalMessage[]): ToolCallResult[] {
  const results: ToolCallResult[] = [];
  plans.forEach((plan, index) => {
    if (plan.kind !== 'tool') return;
    const outcome = outcomeOfMessage(messages[index]!);
    results.push({
      name: plan.offer.target.tool.name,
      callId: plan.call.callId,
      ok: outcome.ok,
      ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
    });
  });
  return results;
}

/** Decides what each tool call of a response is; invalid ones get a message for the model. */
function planCalls(calls: readonly ModelToolCall[], table: ReadonlyMap<string, OfferedTool>): Plan[] {
  let handoffTaken = false;
  return calls.map((call): Plan => {
    const offer = table.get(call.name);
    if (!offer) {
      const known = [...table.keys()].join(', ') || '(none)';
      return {
        kind: 'invalid',
        call,
        problem: `There is no tool named '${call.name}'. The tools are: ${known}.`,
      };
    }
    if (!call.parsed || typeof call.input !== 'object' || call.input === null || Array.isArray(call.input)) {
      return {
        kind: 'invalid',
        call,
        problem: `The arguments of '${call.name}' must be a JSON object, got: ${String(call.input).slice(0, 200)}`,
      };
    }
    const target = offer.target;
    switch (target.kind) {
      case 'tool': {
        // Arguments read back redacted from the journal were checked when the model sent them.
        if (call.redacted && target.tool.redact.length > 0) {
          return {
            kind: 'tool',
            call,
            offer: offer as OfferedTool & { target: { kind: 'tool' } },
            argsRedacted: true,
          };
        }
        const checked = checkArgs(target.tool, call.input);
        if (!checked.ok)
          return {
            kind: 'invalid',
            call,
            problem: `Invalid arguments for '${call.name}':\n${checked.problem}`,
          };
        return {
          kind: 'tool',
          call,
          offer: offer as OfferedTool & { target: { kind: 'tool' } },
          argsRedacted: false,
        };
      }
      case 'agent': {
        const parsed = agentToolInput().safeParse(call.input);
        if (!parsed.success)
          return {
            kind: 'invalid',
            call,
            problem: `Invalid arguments for '${call.name}':\n${zod().prettifyError(parsed.error)}`,
          };
        return {
          kind: 'agent',
          call,
          offer: offer as OfferedTool & { target: { kind: 'agent' } },
          task: parsed.data.task,
        };
      }
      case 'handoff': {
        const parsed = handoffInput().safeParse(call.input);
        if (!parsed.success)
          return {
            kind: 'invalid',
            call,
            problem: `Invalid arguments for '${call.name}':\n${zod().prettifyError(parsed.error)}`,
          };
        if (handoffTaken)
          return {
            kind: 'invalid',
            call,
            problem: `Only one handoff per answer; '${call.name}' was not done.`,
          };
        handoffTaken = true;
        return { kind: 'handoff', call, to: target.agent };
      }
    }
  });
}

/** What a response's tool calls gave: their result messages in call order, and the handoff allowed, if any. */
interface Acted {
  messages: JournalMessage[];
  handoff?: { to: AgentDefinition<any>; callId: string; grant: Grant | undefined };
}

/** Runs a response's tool calls concurrently and returns their result messages in call order. */
async function act(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  op: OperationHandle,
  agent: AgentDefinition<any>,
  scope: AgentScope,
  plans: readonly Plan[],
): Promise<Acted> {
  let handoff: Acted['handoff'];
  const configured = calleeAuthorizer(runtime, scope);
  // A decision the journal holds is taken from it, whatever the configuration says now.
  const authorizerFor = (callId: string): Authorizer | undefined =>
    configured ?? (recordedDelegation(op.recorded, callId) ? GRANT_AUTHORIZER : undefined);
  // Every call starts now, in call order: tools as ops of their own, agents as their own loops
  // (containers whose inner ops replay in the order they finished, see decision 0001). Without
  // access control nothing is awaited before an agent starts, so its op is taken in call order too.
  const results = plans.map((plan): Promise<JournalMessage> => {
    switch (plan.kind) {
      case 'tool':
        return callToolOp(ctx, runtime, {
          tool: plan.offer.target.tool,
          callId: plan.call.callId,
          wireName: plan.call.name,
          args: plan.call.input,
          agent: agent.name,
          scope,
          ...(plan.argsRedacted ? { argsRedacted: true } : {}),
        }).then((result) => result.message);
      case 'agent': {
        const sub = plan.offer.target.agent;
        const authorizer = authorizerFor(plan.call.callId);
        if (!authorizer) return askAgent(ctx, runtime, agent, scope, plan, undefined);
        return authorizeCallee(ctx, runtime, authorizer, op, scope, sub, plan.call.callId).then((allowed) =>
          allowed.ok
            ? askAgent(ctx, runtime, agent, scope, plan, allowed.grant)
            : deniedMessage(plan.call, `The call to agent '${sub.name}'`, allowed.reason),
        );
      }
      case 'invalid':
        return Promise.resolve(errorMessage(plan.call, plan.problem));
      case 'handoff': {
        const transferred = (grant: Grant | undefined): JournalMessage => {
          handoff = { to: plan.to, callId: plan.call.callId, grant };
          return toolResultMessage(plan.call.callId, plan.call.name, {
            ok: true,
            result: { transferredTo: plan.to.name },
          });
        };
        const authorizer = authorizerFor(plan.call.callId);
        if (!authorizer) return Promise.resolve(transferred(undefined));
        return authorizeCallee(ctx, runtime, authorizer, op, scope, plan.to, plan.call.callId).then(
          (allowed) =>
            allowed.ok
              ? transferred(allowed.grant)
              : deniedMessage(plan.call, `The handoff to '${plan.to.name}'`, allowed.reason),
        );
      }
    }
  });
  const messages = await Promise.all(results);
  return { messages, ...(handoff ? { handoff } : {}) };
}

/** What decides a caller's handoffs and agent calls: the policies, else its grant alone, else nothing. */
function calleeAuthorizer(runtime: AgentRuntime, scope: AgentScope): Authorizer | undefined {
  return runtime.access?.policies ?? (scope.grant ? GRANT_AUTHORIZER : undefined);
}

/**
 * Authorizes handing work to another agent (a handoff, or an agent called as a tool) as HandOff,
 * journaled in the calling agent's op (`access.decided`, told apart by the call's id), and narrows
 * the caller's grant to what the callee needs. With no policies and no grant, there is nothing to
 * decide: the caller does not call this (as without access control).
 */
async function authorizeCallee(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  authorizer: Authorizer,
  op: OperationHandle,
  scope: AgentScope,
  callee: AgentDefinition<any>,
  callId: string,
): Promise<{ ok: true; grant: Grant | undefined } | { ok: false; reason: string }> {
  const needs = agentNeeds(callee);
  const decision = await authorizeDelegationInOperation(
    op,
    authorizer,
    {
      chain: identityChain(ctx.tenant, scope.actor, scope.onBehalfOf),
      action: 'HandOff',
      resource: { kind: 'agent', name: callee.name },
      ...(scope.grant ? { grant: scope.grant } : {}),
      needs: needs.actions,
      strict: needs.declared,
      holder: `agent:${callee.name}`,
      maxDepth: runtime.access?.maxDelegationDepth,
    },
    { callId },
  );
  if (decision.decision === 'deny') return { ok: false, reason: `access: ${explainDecision(decision)}` };
  return { ok: true, grant: decision.delegated };
}

/**
 * The grant an agent run from workflow code acts under: the workflow's, narrowed to what the agent
 * needs (journaled in its `agent.started`). A delegation that cannot be made is journaled as
 * `agent.failed` and comes back as a rejected promise. Synchronous otherwise, so the agent's ops are
 * taken when they were before access control existed.
 */
function agentGrant(
  op: OperationHandle,
  runtime: AgentRuntime,
  agent: AgentDefinition<any>,
  parent: Grant | undefined,
  draft: <T extends keyof JournalEventPayloads>(type: T, payload: JournalEventPayloads[T]) => EventDraft,
): { grant: Grant | undefined } | { failed: Promise<never> } {
  const started = op.recorded.find((event) => event.type === 'agent.started');
  if (started) {
    const recorded = started.payload.grant;
    return { grant: recorded === undefined ? undefined : parseGrant(recorded) };
  }
  const failed = op.recorded.find((event) => event.type === 'agent.failed');
  if (failed) {
    const { error } = failed.payload;
    return { failed: Promise.reject(new BatonError(error.code ?? 'AGENT_FAILED', error.message)) };
  }
  if (!parent) return { grant: undefined };
  const needs = agentNeeds(agent);
  try {
    const grant = delegate(
      parent,
      { actions: needs.actions, holder: `agent:${agent.name}` },
      {
        strict: needs.declared,
        now: op.now(),
        ...(runtime.access ? { maxDepth: runtime.access.maxDelegationDepth } : {}),
      },
    );
    return { grant };
  } catch (error) {
    if (!(BatonError.isInstance(error) && AGENT_ERROR_CODES.has(error.code)))
      return { failed: rejection(error) };
    const serialized = serializeErrorWithoutStack(error);
    const failing = op.append([
      draft('agent.failed', { op: op.op, name: agent.name, turns: 0, error: serialized }),
    ]);
    return { failed: failing.then(() => Promise.reject(error)) };
  }
}

/** A promise rejected with `error`, whatever was thrown. */
async function rejection(error: unknown): Promise<never> {
  throw error;
}

/** A tool call's arguments as the journal keeps them, when the tool redacts fields and the arguments are valid. */
function redactedCall(
  table: ReadonlyMap<string, OfferedTool>,
  name: string,
  input: unknown,
): { input: unknown; paths: readonly string[] } | undefined {
  const target = table.get(name)?.target;
  if (target?.kind !== 'tool' || target.tool.redact.length === 0) return undefined;
  if (typeof input !== 'object' || input === null || !checkArgs(target.tool, input).ok) return undefined;
  return { input: redact(input, target.tool.redact), paths: target.tool.redact };
}

function deniedMessage(call: ModelToolCall, what: string, reason: string): JournalMessage {
  return toolResultMessage(call.callId, call.name, {
    ok: false,
    error: `${what} was denied by ${reason}`,
    kind: 'denied',
  });
}

/** Runs an agent called as a tool; its failures answer the call as a tool error. */
async function askAgent(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  caller: AgentDefinition<any>,
  scope: AgentScope,
  plan: Plan & { kind: 'agent' },
  grant: Grant | undefined,
): Promise<JournalMessage> {
  const sub = plan.offer.target.agent;
  const subScope: AgentScope = {
    actor: `agent:${sub.name}`,
    onBehalfOf: [scope.actor, ...scope.onBehalfOf],
    ...(grant === undefined ? {} : { grant }),
  };
  let outcome: ToolOutcome;
  try {
    const answer = await runChain(
      ctx,
      runtime,
      sub,
      taskMessage(sub, plan.task),
      subScope,
      { via: 'tool', from: caller.name, callId: plan.call.callId },
      8,
    );
    outcome = { ok: true, result: answer.output };
  } catch (error) {
    if (!(BatonError.isInstance(error) && AGENT_ERROR_CODES.has(error.code))) throw error;
    outcome = { ok: false, error: error.message, kind: 'failed' };
  }
  return toolResultMessage(plan.call.callId, plan.call.name, outcome);
}

function errorMessage(call: ModelToolCall, problem: string): JournalMessage {
  return toolResultMessage(call.callId, call.name, { ok: false, error: problem, kind: 'failed' });
}

function taskMessage(agent: AgentDefinition<any>, input: AgentInput): JournalMessage {
  const { task, context } = typeof input === 'string' ? { task: input, context: undefined } : input;
  if (typeof task !== 'string' || task.trim() === '') {
    throw new InvalidArgumentError(
      `Agent '${agent.name}' was given no task: pass { task: '…' } or a string.`,
    );
  }
  let text = task;
  if (context !== undefined) {
    canonicalJson(context, `The context given to agent '${agent.name}'`);
    text += `\n\nContext:\n${JSON.stringify(context, null, 2)}`;
  }
  return { role: 'user', content: [{ type: 'text', text }] };
}

function finalAnswer(
  agent: AgentDefinition<any>,
  text: string,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (!agent.output) return { ok: true, value: text };
  let value: unknown;
  try {
    value = JSON.parse(stripFences(text));
  } catch {
    return { ok: false, problem: `it is not JSON: ${JSON.stringify(text.slice(0, 200))}` };
  }
  const parsed = agent.output.safeParse(value);
  if (!parsed.success) return { ok: false, problem: zod().prettifyError(parsed.error) };
  return { ok: true, value: parsed.data };
}

function stripFences(text: string): string {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  return fenced ? fenced[1]! : text;
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = zod().toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}
