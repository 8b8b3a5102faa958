import type { LanguageModelV4, LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { attemptWithRetry } from '../engine/attempt-with-retry.ts';
import { ConfigError, serializeError, type SerializedError } from '../errors.ts';
import type { EventDraft, JournalEventPayloads } from '../journal/events.ts';
import type { CacheRequest } from '../routing/semantic-cache.ts';
import type { Verdict } from '../routing/model-selection.ts';
import { classifyModelError } from './classify-model-error.ts';
import { ModelCallFailedError } from './errors.ts';
import { commitModelCall, storeInCache } from './model-call-commit.ts';
import { runModelAfter } from './model-call-replay.ts';
import type { ModelCall } from './model-call-state.ts';
import { redactReply, replyOf, type LiveResponse } from './model-reply.ts';
import { buildCallOptions, streamCall } from './model-stream.ts';
import type { ModelTurn } from './model-types.ts';
import { callCost, type CallCost } from '../routing/prices.ts';
import { servedReply, turnCacheRequest } from './turn-cache.ts';
import {
  cascadeReason,
  choiceSpec,
  planTurn,
  selectedTurn,
  turnReply,
  verdictSummary,
  verifyReply,
  type AgentTurnRequest,
  type TurnPlan,
  type TurnStage,
} from './turn-model-selection.ts';
import { estimateModelTokens } from './estimate-model-tokens.ts';

/** What every attempt of one call sends. */
interface Sending {
  options: LanguageModelV4CallOptions;
  /** Tokens reserved from the pool per attempt (0 without a pool). */
  tokens: number;
  /** A cascade's answers the verifier rejected: journaled with the turn's outcome, in its commit. */
  rejected: JournalEventPayloads['model.attempted'][];
}

/**
 * The attempt and commit phases of a model call: answered from the semantic cache when it holds
 * the request, else sent (to the model its selection chooses, or to each of a cascade's in turn) with
 * retry, and the kept reply committed as `llm.called` with the routing decision.
 */
export async function attemptModelCall(call: ModelCall): Promise<ModelTurn> {
  const { request, ctx } = call;
  const sending: Sending = {
    options: buildCallOptions(request),
    tokens: request.pool === undefined ? 0 : estimateModelTokens(request),
    rejected: [],
  };
  const turnCache = request.cache;
  if (turnCache && !turnCache.cache) {
    throw new ConfigError(
      `Agent '${request.agent}' answers from the semantic cache (agent({ cache })), but this Baton has none: ` +
        `pass Baton.open({ agents: { cache: {} } }) (or a SemanticCache), or set baton.agents.cache.`,
    );
  }
  const cacheKey = turnCache ? turnCacheRequest(ctx.tenant, turnCache, request) : undefined;
  const served = cacheKey ? await serveFromCache(call, cacheKey) : undefined;
  return served ?? routeAndSend(call, sending, cacheKey?.request);
}

/** A reply from the semantic cache answers the turn without calling a model (never after a failed attempt: that turn was already sent). */
async function serveFromCache(
  call: ModelCall,
  cacheKey: { request: CacheRequest; similar: boolean },
): Promise<ModelTurn | undefined> {
  const turnCache = call.request.cache!;
  const semanticCache = turnCache.cache!;
  if (call.state.failed.size > 0) return undefined;
  const { op } = call;
  const started = performance.now();
  const found = await op.active(() =>
    semanticCache.lookup(cacheKey.request, op.now(), {
      similar: cacheKey.similar,
      ...(turnCache.threshold === undefined ? {} : { threshold: turnCache.threshold }),
    }),
  );
  const reply = found.hit ? servedReply(found.response, op.op) : undefined;
  if (!found.hit || !reply) return undefined;
  const response: LiveResponse = {
    ...replyOf(reply.message),
    finishReason: reply.finishReason,
    usage: { inputTokens: 0, outputTokens: 0 },
  };
  const cost: CallCost = { usd: 0, priced: true };
  await commitModelCall(
    call,
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
  await runModelAfter(call, turn, false);
  return turn;
}

/**
 * Routing picks the model (fixed, by difficulty) or the models to try in turn (a cascade). The
 * whole decision is one commit of this op — the kept reply, the rejected answers, the decision —
 * so replay answers from the journal and calls no model; a cascade cut short by a crash (or a
 * long retry wait) starts again from its first model.
 */
async function routeAndSend(
  call: ModelCall,
  sending: Sending,
  cacheRequest: CacheRequest | undefined,
): Promise<ModelTurn> {
  const { request, runtime, op } = call;
  const routing = request.routing;
  const turnRequest: AgentTurnRequest = {
    agent: request.agent,
    messages: request.messages,
    tools: request.tools.map((offer) => offer.name),
  };
  const plan = routing
    ? planTurn(routing, turnRequest, (choice) => runtime.resolveModel(choiceSpec(choice), request.agent))
    : undefined;
  const stages: TurnStage[] = plan?.stages ?? [{ choice: { id: call.modelName }, model: request.model }];
  for (let index = 0; ; index++) {
    const stage = stages[index]!;
    const sent = await sendToModel(call, sending, stage.model, plan ? stage.choice.id : undefined);
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
        sending.rejected.push(rejectedAnswer(call, stage, index, response, cost, verdict));
        continue;
      }
      accepted = verdict;
    }
    const routed = plan ? selectedTurn(sending.rejected, response.usage, cost, accepted) : undefined;
    const [written] = await commitModelCall(
      call,
      response,
      { model: stage.model, attempt: sent.attempt, cost, latencyMs: sent.latencyMs },
      plan && routed ? routingEvents(call, plan, sending.rejected, stage, routed.cost, accepted) : [],
    );
    await storeInCache(call, cacheRequest, response, stage.model, written!.seq);
    const turn: ModelTurn = { ...response, ...(routed ?? { cost }) };
    await runModelAfter(call, turn, false);
    return turn;
  }
}

function rejectedAnswer(
  call: ModelCall,
  stage: TurnStage,
  index: number,
  response: LiveResponse,
  cost: CallCost,
  verdict: Verdict,
): JournalEventPayloads['model.attempted'] {
  return {
    op: call.op.op,
    name: call.request.agent,
    model: stage.choice.id,
    attempt: index + 1,
    output: turnReply(response),
    usage: { inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens },
    costUsd: cost.usd,
    agent: call.request.scope.actor,
    verdict,
  };
}

/** A routed turn's decision, with the answers the verifier rejected, committed with the kept reply. */
function routingEvents(
  call: ModelCall,
  plan: TurnPlan,
  rejected: readonly JournalEventPayloads['model.attempted'][],
  stage: TurnStage,
  cost: CallCost,
  accepted: Verdict | undefined,
): EventDraft[] {
  return [
    ...rejected.map((payload) => call.draft('model.attempted', payload)),
    call.draft('model.routed', {
      op: call.op.op,
      name: call.request.agent,
      strategy: plan.strategy,
      chosen: stage.choice.id,
      reason: plan.reason ?? cascadeReason(rejected, stage.choice.id, accepted),
      ...(plan.difficulty === undefined ? {} : { difficulty: plan.difficulty }),
      attempts: rejected.length + 1,
      costUsd: cost.usd,
      agent: call.request.scope.actor,
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
  ];
}

/**
 * Sends the request to one model, retrying as the policy says; journals failed attempts (with
 * `routedAs`, the model's routing id, in a routed turn). A call that fails for good is journaled
 * (`llm.failed`, with the rejected answers' costs) and throws ModelCallFailedError.
 */
async function sendToModel(
  call: ModelCall,
  sending: Sending,
  target: LanguageModelV4,
  routedAs: string | undefined,
): Promise<{ response: LiveResponse; attempt: number; latencyMs: number }> {
  const { op, request } = call;
  const targetName = `${target.provider}:${target.modelId}`;
  const previous = call.state.failed.get(routedAs ?? call.modelName);
  const which = routedAs === undefined ? {} : { model: routedAs };
  const base = { op: op.op, name: request.agent };
  let latencyMs = 0;
  const sent = await attemptWithRetry<LiveResponse, never>(
    op,
    { next: (previous?.attempt ?? 0) + 1, retryAt: previous?.retryAt },
    {
      policy: call.policy,
      inlineRetryMs: call.runtime.inlineRetryMs,
      run: async (attempt) => {
        const started = performance.now();
        const outcome = await sendAttempt(call, sending, target, targetName, attempt);
        latencyMs = Math.round(performance.now() - started);
        return outcome;
      },
      classify: (error) => classifyModelError(error, targetName),
      failedAttempt: async (attempt, error, retryAt) => {
        await op.append([
          call.draft('llm.attempt.failed', {
            ...base,
            attempt,
            error: compact(serializeError(error)),
            retryAt: new Date(retryAt).toISOString(),
            ...which,
          }),
        ]);
      },
      failed: async (attempt, error) => {
        const serialized = compact(serializeError(error));
        await op.append([
          call.draft('llm.failed', { ...base, attempt, error: serialized, ...which }),
          // What the rejected answers cost is journaled even when the turn fails.
          ...sending.rejected.map((payload) => call.draft('model.attempted', payload)),
        ]);
        throw new ModelCallFailedError({
          agent: request.agent,
          model: targetName,
          attempts: attempt,
          error: serialized,
        });
      },
    },
  );
  if (sent.kind === 'final') return sent.result;
  return { response: redactReply(sent.value, request.redactToolCall), attempt: sent.attempt, latencyMs };
}

/**
 * One attempt: journals its start (engine flag 3), streams the request (deltas to the runtime's
 * listeners), holding a slot of the call's pool when it names one (a long wait parks the run; its
 * error is classified there too: a 429 pauses the pool for its Retry-After, 5xx count against its
 * breaker). A start that cannot be journaled fails the op; the attempt's own failure is returned.
 */
async function sendAttempt(
  call: ModelCall,
  sending: Sending,
  target: LanguageModelV4,
  targetName: string,
  attempt: number,
): Promise<{ kind: 'value'; value: LiveResponse } | { kind: 'error'; error: unknown }> {
  const { ctx, op, request, runtime } = call;
  let startFailure: { error: unknown } | undefined;
  const sendOnce = async (): Promise<LiveResponse> => {
    try {
      await journalStart(call, target, attempt);
    } catch (error) {
      startFailure = { error };
      throw error;
    }
    return streamCall(target, sending.options, op.signal, request.timeoutMs, (event) =>
      runtime.emit({ runId: ctx.runId, op: op.op, agent: request.agent, attempt, ...event }),
    );
  };
  try {
    const value =
      request.pool === undefined
        ? await op.active(sendOnce)
        : await op.withPool(request.pool, { tokens: sending.tokens }, async (lease) => {
            try {
              const response = await sendOnce();
              lease.reportTokens(response.usage.inputTokens + response.usage.outputTokens);
              return response;
            } catch (error) {
              if (startFailure) throw error;
              throw classifyModelError(error, targetName);
            }
          });
    return { kind: 'value', value };
  } catch (error) {
    if (startFailure) throw startFailure.error;
    return { kind: 'error', error };
  }
}

/** Journals that an attempt is about to be sent, in runs whose engine journals starts (flag 3). */
async function journalStart(call: ModelCall, target: LanguageModelV4, attempt: number): Promise<void> {
  const { ctx, op, request } = call;
  if (!call.runtime.journalsStarts(ctx)) return;
  await op.append([
    call.draft('llm.started', {
      op: op.op,
      name: request.agent,
      turn: request.turn,
      attempt,
      provider: target.provider,
      model: target.modelId,
    }),
  ]);
}

function compact(error: SerializedError): SerializedError {
  const { stack: _stack, ...rest } = error;
  return rest;
}
