import type { EventDraft, JournalEvent, JournalEventPayloads } from '../journal/events.ts';
import type { ModelCall } from './model-call-state.ts';
import type { LiveResponse } from './model-reply.ts';
import type { CallCost } from '../routing/prices.ts';
import type { CachedReply } from './model-types.ts';
import type { CacheRequest } from '../routing/semantic-cache.ts';

/** What is known of a kept reply besides the reply itself. */
export interface ReplyFacts {
  model: { provider: string; modelId: string };
  attempt: number;
  cost: CallCost;
  latencyMs: number;
  cache?: JournalEventPayloads['llm.called']['cache'];
}

/**
 * The commit phase of a model call: the kept reply journaled as `llm.called` (the request by
 * reference, new messages stored once), with `extra` (a routing decision) in the same commit.
 * Returns the events as written.
 */
export async function commitModelCall(
  call: ModelCall,
  response: LiveResponse,
  facts: ReplyFacts,
  extra: readonly EventDraft[],
): Promise<readonly JournalEvent[]> {
  const { ledger, request, op } = call;
  const { request: ref, conversation } = ledger.reference(request.messages);
  // The reply is always stored in its own event, so replay finds it there.
  const stored = [...ledger.store(request.messages), response.message];
  ledger.noteStored([response.message]);
  const payload: JournalEventPayloads['llm.called'] = {
    op: op.op,
    name: request.agent,
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
      toolCalls: response.toolCalls.map((toolCall) => ({ callId: toolCall.callId, name: toolCall.name })),
    },
    messages: stored,
    usage: response.usage,
    cost: facts.cost,
    latencyMs: facts.latencyMs,
    ...(facts.cache ? { cache: facts.cache } : {}),
    ...(request.hydration ? { hydration: request.hydration } : {}),
  };
  const written = await op.append([call.draft('llm.called', payload), ...extra]);
  ledger.noteConversation(conversation);
  return written;
}

/**
 * Keeps a committed reply in the semantic cache when the agent caches and the reply may be served
 * again (it finished, and calls no tool with side effects). A failure to store is logged, not thrown.
 */
export async function storeInCache(
  call: ModelCall,
  cacheRequest: CacheRequest | undefined,
  response: LiveResponse,
  model: { provider: string; modelId: string },
  seq: number,
): Promise<void> {
  const turnCache = call.request.cache;
  const semanticCache = turnCache?.cache;
  if (!turnCache || !semanticCache || !cacheRequest) return;
  if (response.finishReason !== 'stop' && response.finishReason !== 'tool-calls') return;
  if (!turnCache.storable(response.toolCalls)) return;
  const entry: CachedReply = {
    message: response.message,
    finishReason: response.finishReason,
    provider: model.provider,
    model: model.modelId,
  };
  const { op, ctx } = call;
  await op
    .active(() =>
      semanticCache.store(
        { ...cacheRequest, response: entry, source: { runId: ctx.runId, seq } },
        op.now(),
        turnCache.ttlMs === undefined ? {} : { ttlMs: turnCache.ttlMs },
      ),
    )
    .catch((error: unknown) =>
      semanticCache.log(
        `Could not write the cache entry of agent '${call.request.agent}' in run ${ctx.runId}.`,
        error,
      ),
    );
}
