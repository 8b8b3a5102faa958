import { setTimeout as delay } from 'node:timers/promises';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FunctionTool,
  LanguageModelV4StreamPart,
  SharedV4ProviderOptions,
} from '@ai-sdk/provider';
import type { WorkflowContext } from '../engine/context.ts';
import { backoffDelay, isRetryable, resolveRetryPolicy, type RetryPolicy } from '../engine/retry.ts';
import { BatonError, ConfigError, serializeErrorWithoutStack } from '../errors.ts';
import { classifyError, retryAfterFromHeaders } from '../resources/classify-error.ts';
import type { EventDraft, JournalEvent, JournalEventPayloads, VerdictRecord } from '../journal/events.ts';
import type { Verdict } from '../routing/model-router.ts';
import {
  ModelCallDeniedError,
  ModelCallFailedError,
  ModelProviderError,
  ModelResponseError,
} from './errors.ts';
import {
  approvalSignalName,
  decidedEvents,
  PARK_TIMEOUT,
  runBefore,
  type InterceptorContext,
  type ModelCallInfo,
  type ModelCallSummary,
  type ParkDecision,
  type PendingVerdict,
} from './interceptors.ts';
import { conversationHash, type JournalMessage } from './messages.ts';
import type { HydrationSummary } from './history-budget.ts';
import { callCost, type CallCost, type TokenUsage } from './prices.ts';
import type { AgentRuntime } from './runtime.ts';
import { lazyModule } from '../lazy-module.ts';

/** The AI SDK's error classes, loaded when a model call first fails (every model loaded them already). */
const providerErrors = lazyModule<typeof import('@ai-sdk/provider')>('@ai-sdk/provider');
import type { AgentScope } from './tool-call.ts';
import { servedReply, turnCacheRequest, type CachedReply, type TurnCache } from './turn-cache.ts';
import {
  cascadeReason,
  choiceSpec,
  planTurn,
  routedTurn,
  turnReply,
  verdictSummary,
  verifyReply,
  type AgentModelStrategy,
  type AgentTurnRequest,
  type TurnStage,
} from './turn-routing.ts';

/** A tool as offered to the model. */
export interface ToolOffer {
  /** The name the model sees (dots become underscores). */
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelTurnRequest {
  agent: string;
  model: LanguageModelV4;
  scope: AgentScope;
  messages: readonly JournalMessage[];
  tools: readonly ToolOffer[];
  /** Sampling parameters, journaled as given. */
  parameters: ModelParameters;
  providerOptions?: SharedV4ProviderOptions;
  /** When set, the model is asked for JSON matching this schema. */
  responseSchema?: Record<string, unknown>;
  retry?: RetryPolicy;
  /** Each attempt is abandoned (and retried) after this many ms. */
  timeoutMs?: number;
  /** 1 for the agent's first call. */
  turn: number;
  /**
   * The resource pool each attempt holds a slot of, reserving `estimateModelTokens(request)` tokens
   * and correcting them from the usage the provider reports.
   */
  pool?: string;
  /**
   * For a tool call in the reply: its arguments with fields replaced, when the tool redacts some
   * (`tool({ redact })`). The reply is journaled, and kept in the conversation, with them; the
   * turn's `toolCalls` keep the real arguments for this activation.
   */
  redactToolCall?: (name: string, input: unknown) => { input: unknown; paths: readonly string[] } | undefined;
  /**
   * Answer from the semantic cache when it holds this request (exactly, or one similar enough) in
   * the run's tenant; store replies that call no tool with side effects (`agent({ cache })`).
   */
  cache?: TurnCache;
  /**
   * Choose the model of this call (`agent({ routing })`): `model` is then only what interceptors
   * are told. The whole decision, a cascade's rejected answers included, is this one op.
   */
  routing?: AgentModelStrategy;
  /** What selective hydration left out of `messages` (`agent({ historyBudget })`), journaled with the call. */
  hydration?: HydrationSummary;
}

export interface ModelParameters {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stopSequences?: string[];
}

export interface ModelToolCall {
  callId: string;
  /** The name the model used (a wire name). */
  name: string;
  /** The parsed arguments, or the raw text when it was not JSON. */
  input: unknown;
  /** False when the arguments were not valid JSON. */
  parsed: boolean;
  /** True when `input` was read back from a journal that holds it redacted (see ModelTurnRequest.redactToolCall). */
  redacted?: boolean;
}

/** A model's reply, from the call or from the journal. */
export interface ModelTurn {
  message: JournalMessage;
  text: string;
  toolCalls: ModelToolCall[];
  finishReason: string;
  usage: TokenUsage;
  cost: CallCost;
}

/** Model calls retry 429, 5xx, timeouts and broken connections: 4 attempts, 1 s, 2 s, 4 s (at least Retry-After). */
export const DEFAULT_MODEL_RETRY: RetryPolicy = {
  maxAttempts: 4,
  initialDelay: '1s',
  backoffCoefficient: 2,
  maxDelay: '60s',
};

/**
 * One model call as a durable op (`llm:<agent>`). The request is sent as a stream (deltas go to the
 * runtime's live listeners); the final response is committed in one `llm.called` event with the
 * request by reference, the new messages, usage, cost and latency. A completed call is never sent
 * again: on replay its recorded response is returned. A call in flight at a crash is sent again.
 * Failed attempts are journaled (`llm.attempt.failed`) and retried with backoff honouring
 * Retry-After; a call that fails for good is journaled (`llm.failed`) and throws ModelCallFailedError.
 */
export function callModel(
  ctx: WorkflowContext,
  runtime: AgentRuntime,
  request: ModelTurnRequest,
): Promise<ModelTurn> {
  const ledger = runtime.ledger(ctx);
  const { model, agent, scope } = request;
  const who = { actor: scope.actor, onBehalfOf: [...scope.onBehalfOf] };
  const policy = resolveRetryPolicy(request.retry ?? DEFAULT_MODEL_RETRY);
  const modelName = `${model.provider}:${model.modelId}`;
  const context = (replayed: boolean, verdicts: readonly VerdictRecord[]): InterceptorContext => ({
    runId: ctx.runId,
    workflow: ctx.workflow,
    tenant: ctx.tenant,
    principal: ctx.principal,
    replayed,
    verdicts,
  });
  const draft = <T extends keyof JournalEventPayloads>(
    type: T,
    payload: JournalEventPayloads[T],
  ): EventDraft => ({ type, payload, ...who });

  return ctx.operations.run(`llm:${agent}`, async (op) => {
    const info = (): ModelCallInfo => ({
      runId: ctx.runId,
      op: op.op,
      agent,
      actor: who.actor,
      onBehalfOf: who.onBehalfOf,
      grant: scope.grant,
      provider: model.provider,
      modelId: model.modelId,
      messages: request.messages,
      tools: request.tools.map((offer) => offer.name),
      parameters: request.parameters as Record<string, unknown>,
      turn: request.turn,
    });
    let attempt = 0;
    let retryAt: number | undefined;
    /** The last journaled failed attempt of each model (a routed turn may try several). */
    const failed = new Map<string, { attempt: number; retryAt: number }>();
    let decided = false;
    let parkSignal: string | undefined;
    let parkedBy = '';
    let parkDeadline: number | undefined;
    /** The call's verdicts as journaled, for interceptors' `after` and `decided`. */
    const verdicts: VerdictRecord[] = [];
    for (const event of op.recorded) {
      switch (event.type) {
        case 'llm.called': {
          const payload = event.payload as JournalEventPayloads['llm.called'];
          ledger.noteStored(payload.messages);
          ledger.noteHashes(payload.request.append);
          ledger.noteConversation(conversationHash(payload.request));
          const turn = recordedTurn(op.recorded, payload);
          await runAfter(runtime, info(), turn, context(true, verdicts));
          return turn;
        }
        case 'llm.failed': {
          const payload = event.payload as JournalEventPayloads['llm.failed'];
          throw new ModelCallFailedError({
            agent,
            model: payload.model ?? modelName,
            attempts: payload.attempt,
            error: payload.error,
          });
        }
        case 'llm.attempt.failed': {
          const payload = event.payload as JournalEventPayloads['llm.attempt.failed'];
          failed.set(payload.model ?? modelName, {
            attempt: payload.attempt,
            retryAt: Date.parse(payload.retryAt),
          });
          decided = true;
          break;
        }
        case 'llm.verdict': {
          const payload = event.payload as JournalEventPayloads['llm.verdict'];
          decided = true;
          verdicts.push(payload);
          if (payload.verdict === 'deny') {
            throw new ModelCallDeniedError({
              agent,
              interceptor: payload.interceptor,
              reason: payload.reason ?? 'denied',
              ...(payload.data === undefined ? {} : { data: payload.data }),
            });
          }
          if (payload.verdict === 'park') {
            parkSignal = payload.signal ?? approvalSignalName(op.op);
            parkedBy = payload.interceptor;
            parkDeadline = payload.deadline === undefined ? undefined : Date.parse(payload.deadline);
          } else if (payload.phase === 'decided') parkSignal = undefined;
          break;
        }
      }
    }

    if (!decided && runtime.modelInterceptors.length > 0) {
      const decision = await runBefore(
        runtime.modelInterceptors,
        info(),
        context(false, verdicts),
        (call) => call,
        () => ({ ok: true }),
      );
      if (decision.final === 'park' && decision.signal === undefined) {
        decision.verdicts.at(-1)!.record.signal = approvalSignalName(op.op);
      }
      const events = verdictEvents(decision.verdicts, op.op, agent, who);
      verdicts.push(...decision.verdicts.map((verdict) => verdict.record));
      if (decision.final === 'deny') {
        await op.append(events);
        const last = decision.verdicts.at(-1)!.record;
        throw new ModelCallDeniedError({
          agent,
          interceptor: last.interceptor,
          reason: last.reason ?? 'denied',
          ...(last.data === undefined ? {} : { data: last.data }),
        });
      }
      if (decision.final === 'park') {
        await op.append(events);
        const parked = decision.verdicts.at(-1)!.record;
        parkSignal = parked.signal;
        parkedBy = parked.interceptor;
        parkDeadline = parked.deadline === undefined ? undefined : Date.parse(parked.deadline);
      } else {
        for (const event of events) op.buffer(event);
      }
    }
    if (parkSignal !== undefined) {
      const taken = ctx.operations.takeSignal(parkSignal);
      const timedOut = taken === undefined && parkDeadline !== undefined && op.now() >= parkDeadline;
      const signal = taken ?? (timedOut ? undefined : await op.block(parkDeadline));
      const answer = (signal ? (signal.payload ?? {}) : PARK_TIMEOUT) as Partial<ParkDecision>;
      const approved = answer.approved === true;
      const record: VerdictRecord = {
        interceptor: `signal:${parkSignal}`,
        phase: 'decided',
        verdict: approved ? 'allow' : 'deny',
        ...(answer.reason === undefined ? {} : { reason: answer.reason }),
        ...(answer.by === undefined ? {} : { data: { by: answer.by } }),
      };
      verdicts.push(record);
      const extra = await decidedEvents(
        runtime.modelInterceptors,
        parkedBy,
        info(),
        { ...answer, approved, timedOut, signal: parkSignal },
        context(false, verdicts),
      );
      await op.append(
        [draft('llm.verdict', { op: op.op, name: agent, ...record }), ...extra],
        signal ? { consumeSignals: [signal.signalId] } : {},
      );
      if (!approved) {
        throw new ModelCallDeniedError({
          agent,
          interceptor: `signal:${parkSignal}`,
          reason: answer.reason ?? 'not approved',
          ...(record.data === undefined ? {} : { data: record.data }),
        });
      }
    }

    const callOptions = buildCallOptions(request);
    const tokens = request.pool === undefined ? 0 : estimateModelTokens(request);
    const turnCache = request.cache;
    const semanticCache = turnCache?.cache;
    if (turnCache && !semanticCache) {
      throw new ConfigError(
        `Agent '${agent}' answers from the semantic cache (agent({ cache })), but this Baton has none: ` +
          `pass Baton.open({ agents: { cache: {} } }) (or a SemanticCache), or set baton.agents.cache.`,
      );
    }
    const cacheKey = turnCache ? turnCacheRequest(ctx.tenant, turnCache, request) : undefined;
    const cacheRequest = cacheKey?.request;
    const turnRequest: AgentTurnRequest = {
      agent,
      messages: request.messages,
      tools: request.tools.map((offer) => offer.name),
    };

    /** Journals the kept reply as `llm.called` (with `extra` in the same commit) and returns what was written. */
    const commit = async (
      response: LiveResponse,
      facts: {
        model: { provider: string; modelId: string };
        attempt: number;
        cost: CallCost;
        latencyMs: number;
        cache?: JournalEventPayloads['llm.called']['cache'];
      },
      extra: readonly EventDraft[],
    ): Promise<readonly JournalEvent[]> => {
      const { request: ref, conversation } = ledger.reference(request.messages);
      // The reply is always stored in its own event, so replay finds it there.
      const stored = [...ledger.store(request.messages), response.message];
      ledger.noteStored([response.message]);
      const payload: JournalEventPayloads['llm.called'] = {
        op: op.op,
        name: agent,
        turn: request.turn,
        attempt: facts.attempt,
        provider: facts.model.provider,
        model: facts.model.modelId,
        request: {
          ...ref,
          tools: request.tools.map((offer) => offer.name),
          ...(Object.keys(request.parameters).length > 0
            ? { parameters: request.parameters as Record<string, unknown> }
            : {}),
          ...(request.responseSchema ? { responseFormat: 'json' as const } : {}),
        },
        response: {
          ...(response.id === undefined ? {} : { id: response.id }),
          ...(response.modelId === undefined || response.modelId === facts.model.modelId
            ? {}
            : { modelId: response.modelId }),
          finishReason: response.finishReason,
          toolCalls: response.toolCalls.map((call) => ({ callId: call.callId, name: call.name })),
        },
        messages: stored,
        usage: response.usage,
        cost: facts.cost,
        latencyMs: facts.latencyMs,
        ...(facts.cache ? { cache: facts.cache } : {}),
        ...(request.hydration ? { hydration: request.hydration } : {}),
      };
      const written = await op.append([draft('llm.called', payload), ...extra]);
      ledger.noteConversation(conversation);
      return written;
    };

    // A reply from the semantic cache answers the turn without calling a model (never after a
    // failed attempt: that turn was already sent).
    if (turnCache && semanticCache && cacheRequest && failed.size === 0) {
      const started = performance.now();
      const found = await op.active(() =>
        semanticCache.lookup(cacheRequest, op.now(), {
          similar: cacheKey.similar,
          ...(turnCache.threshold === undefined ? {} : { threshold: turnCache.threshold }),
        }),
      );
      const reply = found.hit ? servedReply(found.response, op.op) : undefined;
      if (found.hit && reply) {
        const response: LiveResponse = {
          ...replyOf(reply.message),
          finishReason: reply.finishReason,
          usage: { inputTokens: 0, outputTokens: 0 },
        };
        const cost: CallCost = { usd: 0, priced: true };
        await commit(
          response,
          {
            model: { provider: reply.provider, modelId: reply.model },
            attempt: 1,
            cost,
            latencyMs: Math.round(performance.now() - started),
            cache: {
              runId: found.source.runId,
              seq: found.source.seq,
              similarity: found.similarity,
              // A similar hit says what it was served under; an exact one needs no threshold.
              ...(found.match === 'similar' ? { threshold: found.threshold } : {}),
              ...(found.bound ? { bound: found.bound } : {}),
            },
          },
          [],
        );
        const turn: ModelTurn = { ...response, cost };
        await runAfter(runtime, info(), turn, context(false, verdicts));
        return turn;
      }
    }

    /** A cascade's answers the verifier rejected: journaled with the turn's outcome, in its commit. */
    const rejected: JournalEventPayloads['model.attempted'][] = [];
    /**
     * Sends the request to one model, retrying as the policy says; journals failed attempts (with
     * `routedAs`, the model's routing id, in a routed turn).
     */
    const send = async (
      target: LanguageModelV4,
      targetName: string,
      routedAs: string | undefined,
    ): Promise<{ response: LiveResponse; attempt: number; latencyMs: number }> => {
      const previous = failed.get(routedAs ?? modelName);
      attempt = previous?.attempt ?? 0;
      retryAt = previous?.retryAt;
      const which = routedAs === undefined ? {} : { model: routedAs };
      for (;;) {
        if (retryAt !== undefined) {
          const wait = retryAt - op.now();
          if (wait > runtime.inlineRetryMs) await op.block(retryAt);
          else if (wait > 0) await op.active(() => delay(wait, undefined, { signal: op.signal }));
        }
        attempt++;
        const current = attempt;
        const started = performance.now();
        const sendOnce = (): Promise<LiveResponse> =>
          attemptCall(target, callOptions, op.signal, request.timeoutMs, (event) =>
            runtime.emit({ runId: ctx.runId, op: op.op, agent, attempt: current, ...event }),
          );
        // With a pool, the attempt holds a slot (a long wait parks the run) and its error is classified
        // there too: a 429 pauses the pool for its Retry-After, 5xx count against its breaker.
        const sending =
          request.pool === undefined
            ? op.active(sendOnce)
            : op.withPool(request.pool, { tokens }, async (lease) => {
                try {
                  const response = await sendOnce();
                  lease.reportTokens(response.usage.inputTokens + response.usage.outputTokens);
                  return response;
                } catch (error) {
                  throw classifyModelError(error, targetName);
                }
              });
        const outcome = await sending.then(
          (response) => ({ ok: true as const, response }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        const latencyMs = Math.round(performance.now() - started);
        if (outcome.ok) {
          return {
            response: redactReply(outcome.response, request.redactToolCall),
            attempt: current,
            latencyMs,
          };
        }
        if (op.signal.aborted) throw op.signal.reason;
        const error = classifyModelError(outcome.error, targetName);
        const serialized = serializeErrorWithoutStack(error);
        if (!isRetryable(error, policy) || current >= policy.maxAttempts) {
          await op.append([
            draft('llm.failed', { op: op.op, name: agent, attempt: current, error: serialized, ...which }),
            // What the rejected answers cost is journaled even when the turn fails.
            ...rejected.map((payload) => draft('model.attempted', payload)),
          ]);
          throw new ModelCallFailedError({ agent, model: targetName, attempts: current, error: serialized });
        }
        retryAt = op.now() + backoffDelay(policy, current, error.retryAfterMs);
        await op.append([
          draft('llm.attempt.failed', {
            op: op.op,
            name: agent,
            attempt: current,
            error: serialized,
            retryAt: new Date(retryAt).toISOString(),
            ...which,
          }),
        ]);
      }
    };

    // Routing picks the model (fixed, by difficulty) or the models to try in turn (a cascade). The
    // whole decision is one commit of this op — the kept reply, the rejected answers, the decision —
    // so replay answers from the journal and calls no model; a cascade cut short by a crash (or a
    // long retry wait) starts again from its first model.
    const routing = request.routing;
    const plan = routing
      ? planTurn(routing, turnRequest, (choice) => runtime.resolveModel(choiceSpec(choice), agent))
      : undefined;
    const stages: TurnStage[] = plan?.stages ?? [{ choice: { id: modelName }, model }];
    for (let index = 0; ; index++) {
      const stage = stages[index]!;
      const sent = await send(
        stage.model,
        `${stage.model.provider}:${stage.model.modelId}`,
        plan ? stage.choice.id : undefined,
      );
      const response = sent.response;
      const cost = callCost(
        stage.choice.price ?? runtime.price(stage.model.provider, response.modelId ?? stage.model.modelId),
        response.usage,
      );
      let accepted: Verdict | undefined;
      if (routing?.strategy === 'cascade' && index < stages.length - 1) {
        const verdict = await op.active(() =>
          verifyReply(routing, turnReply(response), turnRequest, stage.choice),
        );
        if (!verdict.accepted) {
          const payload: JournalEventPayloads['model.attempted'] = {
            op: op.op,
            name: agent,
            model: stage.choice.id,
            attempt: index + 1,
            output: turnReply(response),
            usage: { inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens },
            costUsd: cost.usd,
            agent: scope.actor,
            verdict,
          };
          rejected.push(payload);
          continue;
        }
        accepted = verdict;
      }
      const routed = plan ? routedTurn(rejected, response.usage, cost, accepted) : undefined;
      const [written] = await commit(
        response,
        { model: stage.model, attempt: sent.attempt, cost, latencyMs: sent.latencyMs },
        plan && routed
          ? [
              ...rejected.map((payload) => draft('model.attempted', payload)),
              draft('model.routed', {
                op: op.op,
                name: agent,
                strategy: plan.strategy,
                chosen: stage.choice.id,
                reason: plan.reason ?? cascadeReason(rejected, stage.choice.id, accepted),
                ...(plan.difficulty === undefined ? {} : { difficulty: plan.difficulty }),
                attempts: rejected.length + 1,
                costUsd: routed.cost.usd,
                agent: scope.actor,
                candidates: plan.candidates,
                ...(plan.strategy === 'cascade'
                  ? {
                      verdicts: [
                        ...rejected.map((attempted) => verdictSummary(attempted.model, attempted.verdict)),
                        ...(accepted ? [verdictSummary(stage.choice.id, accepted)] : []),
                      ],
                    }
                  : {}),
                ...(accepted?.judge ? { judge: accepted.judge } : {}),
              }),
            ]
          : [],
      );
      if (
        turnCache &&
        semanticCache &&
        cacheRequest &&
        (response.finishReason === 'stop' || response.finishReason === 'tool-calls') &&
        turnCache.storable(response.toolCalls)
      ) {
        const entry: CachedReply = {
          message: response.message,
          finishReason: response.finishReason,
          provider: stage.model.provider,
          model: stage.model.modelId,
        };
        await op
          .active(() =>
            semanticCache.store(
              { ...cacheRequest, response: entry, source: { runId: ctx.runId, seq: written!.seq } },
              op.now(),
              turnCache.ttlMs === undefined ? {} : { ttlMs: turnCache.ttlMs },
            ),
          )
          .catch((error: unknown) =>
            semanticCache.log(
              `Could not write the cache entry of agent '${agent}' in run ${ctx.runId}.`,
              error,
            ),
          );
      }
      const turn: ModelTurn = { ...response, ...(routed ?? { cost }) };
      await runAfter(runtime, info(), turn, context(false, verdicts));
      return turn;
    }
  });
}

/** A recorded turn: its `llm.called`, with the totals of a routed turn when the op holds a routing decision. */
function recordedTurn(
  recorded: readonly JournalEvent[],
  payload: JournalEventPayloads['llm.called'],
): ModelTurn {
  const turn = turnFromJournal(payload);
  const routed = recorded.find((event) => event.type === 'model.routed')?.payload as
    JournalEventPayloads['model.routed'] | undefined;
  if (!routed) return turn;
  const rejected = recorded
    .filter((event) => event.type === 'model.attempted')
    .map((event) => event.payload as JournalEventPayloads['model.attempted']);
  const totals = routedTurn(rejected, turn.usage, turn.cost, undefined);
  return { ...turn, usage: totals.usage, cost: { usd: routed.costUsd, priced: turn.cost.priced } };
}

function buildCallOptions(request: ModelTurnRequest): LanguageModelV4CallOptions {
  const tools: LanguageModelV4FunctionTool[] = request.tools.map((offer) => ({
    type: 'function',
    name: offer.name,
    description: offer.description,
    inputSchema: offer.inputSchema,
  }));
  return {
    prompt: request.messages as LanguageModelV4CallOptions['prompt'],
    ...request.parameters,
    ...(tools.length > 0 ? { tools, toolChoice: { type: 'auto' as const } } : {}),
    ...(request.responseSchema
      ? {
          responseFormat: {
            type: 'json' as const,
            schema: request.responseSchema,
            name: request.agent.replace(/[^A-Za-z0-9_-]/g, '_'),
          },
        }
      : {}),
    ...(request.providerOptions ? { providerOptions: request.providerOptions } : {}),
  };
}

interface LiveResponse {
  message: JournalMessage;
  text: string;
  toolCalls: ModelToolCall[];
  finishReason: string;
  usage: TokenUsage;
  id?: string;
  modelId?: string;
}

type StreamNote = Omit<import('./runtime.ts').ModelStreamEvent, 'runId' | 'op' | 'agent' | 'attempt'>;

/** Sends one request as a stream and assembles the response. Throws what the provider threw. */
async function attemptCall(
  model: LanguageModelV4,
  options: LanguageModelV4CallOptions,
  abort: AbortSignal,
  timeoutMs: number | undefined,
  emit: (event: StreamNote) => void,
): Promise<LiveResponse> {
  const signals = [abort];
  if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
  const signal = AbortSignal.any(signals);
  emit({ type: 'start' });
  const { stream } = await model.doStream({ ...options, abortSignal: signal });
  type Part =
    | { type: 'text'; text: string; providerOptions?: SharedV4ProviderOptions }
    | { type: 'reasoning'; text: string; providerOptions?: SharedV4ProviderOptions }
    | {
        type: 'tool-call';
        toolCallId: string;
        toolName: string;
        input: unknown;
        providerOptions?: SharedV4ProviderOptions;
      };
  const parts: Part[] = [];
  const open = new Map<string, Part & { type: 'text' | 'reasoning' }>();
  const toolCalls: ModelToolCall[] = [];
  let finishReason = 'other';
  let usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  let id: string | undefined;
  let modelId: string | undefined;
  let finished = false;
  const textPart = (kind: 'text' | 'reasoning', partId: string): Part & { type: 'text' | 'reasoning' } => {
    const key = `${kind}:${partId}`;
    const existing = open.get(key);
    if (existing) return existing;
    const part: Part & { type: 'text' | 'reasoning' } = { type: kind, text: '' };
    open.set(key, part);
    parts.push(part);
    return part;
  };
  for await (const part of stream as unknown as AsyncIterable<LanguageModelV4StreamPart>) {
    switch (part.type) {
      case 'text-start':
      case 'reasoning-start':
        textPart(part.type === 'text-start' ? 'text' : 'reasoning', part.id);
        break;
      case 'text-delta':
        textPart('text', part.id).text += part.delta;
        emit({ type: 'text', delta: part.delta });
        break;
      case 'reasoning-delta':
        textPart('reasoning', part.id).text += part.delta;
        emit({ type: 'reasoning', delta: part.delta });
        break;
      case 'text-end':
      case 'reasoning-end': {
        const key = `${part.type === 'text-end' ? 'text' : 'reasoning'}:${part.id}`;
        const done = open.get(key);
        if (done && part.providerMetadata) done.providerOptions = part.providerMetadata;
        open.delete(key);
        break;
      }
      case 'tool-input-start':
        emit({ type: 'tool-input', toolName: part.toolName, callId: part.id });
        break;
      case 'tool-input-delta':
        emit({ type: 'tool-input', delta: part.delta, callId: part.id });
        break;
      case 'tool-call': {
        if (part.providerExecuted) break;
        let input: unknown = part.input;
        let parsed = false;
        try {
          input = part.input.trim() === '' ? {} : (JSON.parse(part.input) as unknown);
          parsed = true;
        } catch {
          // Kept as text: the agent loop tells the model its arguments were not JSON.
        }
        toolCalls.push({ callId: part.toolCallId, name: part.toolName, input, parsed });
        parts.push({
          type: 'tool-call',
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          input,
          ...(part.providerMetadata ? { providerOptions: part.providerMetadata } : {}),
        });
        emit({ type: 'tool-call', toolName: part.toolName, callId: part.toolCallId });
        break;
      }
      case 'response-metadata':
        id ??= part.id;
        modelId ??= part.modelId;
        break;
      case 'finish':
        finished = true;
        finishReason = part.finishReason.unified;
        usage = {
          inputTokens: part.usage.inputTokens.total ?? 0,
          outputTokens: part.usage.outputTokens.total ?? 0,
          ...(part.usage.inputTokens.cacheRead
            ? { cachedInputTokens: part.usage.inputTokens.cacheRead }
            : {}),
          ...(part.usage.outputTokens.reasoning
            ? { reasoningTokens: part.usage.outputTokens.reasoning }
            : {}),
        };
        break;
      case 'error':
        emit({ type: 'error', error: String((part.error as Error)?.message ?? part.error) });
        throw part.error;
      default:
        break;
    }
  }
  if (!finished)
    throw new (providerErrors().InvalidResponseDataError)({
      data: undefined,
      message: 'The response stream ended without a finish part.',
    });
  const content = parts
    .filter((part) => part.type === 'tool-call' || part.text !== '')
    .map((part) => (part.providerOptions ? part : stripUndefined(part)));
  const text = parts
    .filter((part): part is Part & { type: 'text' } => part.type === 'text')
    .map((part) => part.text)
    .join('');
  emit({ type: 'finish', finishReason });
  return {
    message: { role: 'assistant', content: content },
    text,
    toolCalls,
    finishReason,
    usage,
    ...(id === undefined ? {} : { id }),
    ...(modelId === undefined ? {} : { modelId }),
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Output tokens reserved for a call that sets no maxOutputTokens. */
const DEFAULT_OUTPUT_TOKENS = 1024;

/**
 * The tokens a model call is expected to use, reserved from its pool before it is sent: the
 * prompt's characters (messages and tool schemas) / 4, plus `maxOutputTokens` (default 1024).
 * The pool is corrected from the usage the provider reports.
 */
export function estimateModelTokens(
  request: Pick<ModelTurnRequest, 'messages' | 'tools' | 'parameters'>,
): number {
  const characters = JSON.stringify(request.messages).length + JSON.stringify(request.tools).length;
  return Math.ceil(characters / 4) + (request.parameters.maxOutputTokens ?? DEFAULT_OUTPUT_TOKENS);
}

/**
 * The reply as it is journaled and kept in the conversation: the arguments of tool calls to tools
 * that redact replaced, each such part marked (`providerOptions.baton.redacted`) so replay knows
 * they are not the real ones. The tool calls to run keep the real arguments.
 */
function redactReply(
  response: LiveResponse,
  redactToolCall: ModelTurnRequest['redactToolCall'],
): LiveResponse {
  if (!redactToolCall) return response;
  const content = response.message.content as {
    type: string;
    toolName?: string;
    input?: unknown;
    providerOptions?: SharedV4ProviderOptions;
  }[];
  let changed = false;
  const redacted = content.map((part) => {
    if (part.type !== 'tool-call') return part;
    const replaced = redactToolCall(part.toolName!, part.input);
    if (!replaced) return part;
    changed = true;
    return {
      ...part,
      input: replaced.input,
      providerOptions: { ...part.providerOptions, baton: { redacted: [...replaced.paths] } },
    };
  });
  return changed
    ? { ...response, message: { ...response.message, content: redacted } as JournalMessage }
    : response;
}

/** Rebuilds a model's reply from its `llm.called` event. */
function turnFromJournal(payload: JournalEventPayloads['llm.called']): ModelTurn {
  const reply = payload.messages.at(-1) as JournalMessage | undefined;
  if (reply?.role !== 'assistant')
    throw new Error(`llm.called at op ${payload.op} does not hold the model's reply.`);
  return {
    ...replyOf(reply),
    finishReason: payload.response.finishReason,
    usage: payload.usage,
    cost: payload.cost,
  };
}

function replyOf(message: JournalMessage): {
  message: JournalMessage;
  text: string;
  toolCalls: ModelToolCall[];
} {
  const content = message.content as {
    type: string;
    text?: string;
    toolCallId?: string;
    toolName?: string;
    input?: unknown;
    providerOptions?: { baton?: { redacted?: unknown } };
  }[];
  return {
    message,
    text: content
      .filter((part) => part.type === 'text')
      .map((part) => part.text ?? '')
      .join(''),
    toolCalls: content
      .filter((part) => part.type === 'tool-call')
      .map((part) => ({
        callId: part.toolCallId!,
        name: part.toolName!,
        input: part.input,
        parsed: typeof part.input !== 'string',
        ...(part.providerOptions?.baton?.redacted === undefined ? {} : { redacted: true }),
      })),
  };
}

async function runAfter(
  runtime: AgentRuntime,
  call: ModelCallInfo,
  turn: ModelTurn,
  context: InterceptorContext,
): Promise<void> {
  const summary: ModelCallSummary = {
    text: turn.text,
    toolCalls: turn.toolCalls.map((toolCall) => ({ callId: toolCall.callId, name: toolCall.name })),
    finishReason: turn.finishReason,
    usage: turn.usage,
    cost: turn.cost,
  };
  for (const interceptor of runtime.modelInterceptors) await interceptor.after?.(call, summary, context);
}

function verdictEvents(
  verdicts: readonly PendingVerdict[],
  op: number,
  name: string,
  who: { actor: string; onBehalfOf: string[] },
): EventDraft[] {
  return verdicts.flatMap((verdict) => [
    { type: 'llm.verdict', payload: { op, name, ...verdict.record }, ...who },
    ...verdict.events,
  ]);
}

/**
 * What a provider's failure means for Baton: retryable (408, 409, 429, 5xx, connection, timeout;
 * with Retry-After), malformed (a response that does not parse), or terminal (4xx, a missing key).
 */
export function classifyModelError(error: unknown, model: string): BatonError {
  if (BatonError.isInstance(error)) return error;
  const { APICallError, InvalidResponseDataError, JSONParseError, LoadAPIKeyError, TypeValidationError } =
    providerErrors();
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      return new ModelResponseError({ model, problem: describeCause(error), cause: error });
    }
    const retryable =
      error.isRetryable ||
      status === 408 ||
      status === 409 ||
      status === 429 ||
      (status !== undefined && status >= 500);
    const retryAfterMs = retryAfterFromHeaders(error.responseHeaders);
    return new ModelProviderError({
      model,
      ...(status === undefined ? {} : { status }),
      message: error.message,
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      cause: error,
    });
  }
  if (
    JSONParseError.isInstance(error) ||
    TypeValidationError.isInstance(error) ||
    InvalidResponseDataError.isInstance(error)
  ) {
    return new ModelResponseError({ model, problem: describeCause(error), cause: error });
  }
  if (LoadAPIKeyError.isInstance(error)) {
    return new ModelProviderError({ model, message: error.message, retryable: false, cause: error });
  }
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError') {
    return new ModelProviderError({ model, message: 'the call timed out', retryable: true, cause: error });
  }
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.cause?.code ??
    (error as { code?: unknown })?.code;
  const message = (error as Error | undefined)?.message ?? '';
  if (
    (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code)) ||
    (name === 'TypeError' && /terminated|fetch failed|socket/i.test(message))
  ) {
    return new ModelProviderError({
      model,
      message: `the connection failed (${message})`,
      retryable: true,
      cause: error,
    });
  }
  // Other clients' HTTP errors (a status and Retry-After on the error, its response or its cause).
  const verdict = classifyError(error);
  if (verdict.kind !== 'unknown') {
    return new ModelProviderError({
      model,
      ...(verdict.status === undefined ? {} : { status: verdict.status }),
      message: (error as Error)?.message ?? String(error),
      retryable: verdict.kind !== 'rejected',
      ...(verdict.kind !== 'rejected' && verdict.retryAfterMs !== undefined
        ? { retryAfterMs: verdict.retryAfterMs }
        : {}),
      cause: error,
    });
  }
  return new ModelProviderError({
    model,
    message: (error as Error)?.message ?? String(error),
    retryable: false,
    cause: error,
  });
}

function describeCause(error: Error): string {
  const { APICallError, JSONParseError, TypeValidationError } = providerErrors();
  const inner = (error as { cause?: unknown }).cause;
  if (APICallError.isInstance(error) && inner instanceof Error) return describeCause(inner);
  if (JSONParseError.isInstance(error)) {
    const reason = error.cause instanceof Error ? error.cause.message : 'it does not parse';
    return `the body is not valid JSON (${reason}); it began ${JSON.stringify(error.text.slice(0, 60))}`;
  }
  if (TypeValidationError.isInstance(error)) {
    return `the body does not have the expected shape (${error.message.split('\n')[0]})`;
  }
  return error.message;
}
