import { toMilliseconds, type Duration } from '../engine/duration.ts';
import { InvalidArgumentError } from '../errors.ts';
import { checkUnitInterval } from '../argument-checks.ts';
import type { CacheRequest, SemanticCache } from '../routing/semantic-cache.ts';
import type { ToolDefinition } from './tool.ts';
import { historyText } from './history-budget.ts';
import type { JournalMessage } from './messages.ts';
import type { CachedReply, ModelParameters, TurnCache } from './model-types.ts';

export type { CachedReply, TurnCache } from './model-types.ts';

/** An agent's use of the semantic cache (`agent({ cache })`); `true` takes the cache's own settings. */
export interface AgentCacheOptions {
  /** How long this agent's entries are served. Default: the cache's TTL. */
  ttl?: Duration;
  /** Cosine similarity at or above which a different request is answered, in (0, 1]. Default: the cache's. */
  threshold?: number;
}

/** Checks `agent({ cache })` at the door. */
export function checkAgentCache(
  option: boolean | AgentCacheOptions | undefined,
  agent: string,
): { ttlMs?: number; threshold?: number } | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return Object.freeze({});
  if (typeof option !== 'object' || option === null)
    throw new InvalidArgumentError(
      `Agent '${agent}' has a cache option that is neither true nor { ttl?, threshold? }.`,
    );
  const ttlMs =
    option.ttl === undefined ? undefined : toMilliseconds(option.ttl, `agent '${agent}' cache ttl`);
  if (ttlMs === 0) throw new InvalidArgumentError(`Agent '${agent}' has a cache ttl of 0; use a longer one.`);
  const threshold =
    option.threshold === undefined
      ? undefined
      : checkUnitInterval(option.threshold, `The cache threshold of agent '${agent}'`, {
          exclusiveMin: true,
        });
  return Object.freeze({
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(threshold === undefined ? {} : { threshold }),
  });
}

/**
 * The cache request of a model call. Scoped to the tenant, the model (or routing), the system
 * prompt, the tools' names and the conversation's shape (its messages' roles and the tools they
 * call); keyed exactly by the other messages (tool call ids numbered in order, since providers draw
 * new ones every run), the parameters and the response format. Only requests without tool results
 * are matched by similarity (of their text): a tool's result is a fact, and a similar-looking
 * result is not the same one, so later turns are served only for the exact same results.
 */
export function turnCacheRequest(
  tenant: string,
  turnCache: TurnCache,
  request: {
    messages: readonly JournalMessage[];
    tools: readonly { name: string }[];
    parameters: ModelParameters;
    responseSchema?: Record<string, unknown>;
  },
): { request: CacheRequest; similar: boolean } {
  const system = request.messages.filter((message) => message.role === 'system');
  const rest = numberCallIds(request.messages.filter((message) => message.role !== 'system'));
  const shape = rest
    .map((message) => {
      const calls = parts(message).filter((part) => part.type === 'tool-call');
      return calls.length === 0
        ? message.role
        : `${message.role}:${calls.map((part) => part.toolName).join(',')}`;
    })
    .join('|');
  return {
    request: {
      tenant,
      scope: {
        model: turnCache.model,
        system: system.map(historyText).join('\n'),
        tools: request.tools.map((offer) => offer.name),
        shape,
      },
      request: {
        messages: rest,
        parameters: request.parameters,
        ...(request.responseSchema ? { responseSchema: request.responseSchema } : {}),
      },
      text: rest.map((message) => `${message.role}: ${historyText(message)}`).join('\n'),
    },
    similar: !rest.some((message) => message.role === 'tool'),
  };
}

interface Part {
  type?: unknown;
  toolCallId?: unknown;
  toolName?: unknown;
}

function parts(message: JournalMessage): Part[] {
  const content = (message as { content: unknown }).content;
  return Array.isArray(content) ? (content as Part[]) : [];
}

/** The messages with their tool call ids replaced by `call_1`, `call_2`, … in order of appearance. */
function numberCallIds(messages: readonly JournalMessage[]): JournalMessage[] {
  const ids = new Map<unknown, string>();
  const number = (id: unknown): string => {
    let next = ids.get(id);
    if (next === undefined) ids.set(id, (next = `call_${ids.size + 1}`));
    return next;
  };
  return messages.map((message) => {
    const content = parts(message);
    if (!content.some((part) => part.toolCallId !== undefined)) return message;
    return {
      ...message,
      content: content.map((part) =>
        part.toolCallId === undefined ? part : { ...part, toolCallId: number(part.toolCallId) },
      ),
    } as JournalMessage;
  });
}

/**
 * A cached reply, read back for the call at `op`: its tool calls get ids of this call (the entry
 * may be served more than once in a conversation). Undefined when the entry is not a reply.
 */
export function servedReply(response: unknown, op: number): CachedReply | undefined {
  const entry = response as Partial<CachedReply> | null;
  const message = entry?.message as { role?: unknown; content?: unknown } | undefined;
  if (
    !entry ||
    message?.role !== 'assistant' ||
    !Array.isArray(message.content) ||
    typeof entry.provider !== 'string' ||
    typeof entry.model !== 'string' ||
    typeof entry.finishReason !== 'string'
  )
    return undefined;
  let call = 0;
  const content = (message.content as { type?: unknown; toolCallId?: unknown }[]).map((part) =>
    part?.type === 'tool-call' ? { ...part, toolCallId: `cached_${op}_${++call}` } : part,
  );
  return {
    message: { ...message, content } as JournalMessage,
    finishReason: entry.finishReason,
    provider: entry.provider,
    model: entry.model,
  };
}

/**
 * How an agent's model calls use the cache, or undefined when it does not cache: scoped to its
 * model (or its routing's models), storing only replies whose tool calls are all to `read` tools
 * that redact nothing (no side effects, nothing hidden from the journal).
 */
export function agentTurnCache(
  agent: { readonly cache: { readonly ttlMs?: number; readonly threshold?: number } | undefined },
  cache: SemanticCache | undefined,
  table: ReadonlyMap<
    string,
    { target: { kind: 'tool'; tool: ToolDefinition } | { kind: 'agent' | 'handoff' } }
  >,
  model: string,
): TurnCache | undefined {
  if (!agent.cache) return undefined;
  return {
    cache,
    ...agent.cache,
    model,
    storable: (toolCalls) =>
      toolCalls.every((call) => {
        const target = table.get(call.name)?.target;
        return (
          call.parsed &&
          target?.kind === 'tool' &&
          target.tool.effect === 'read' &&
          target.tool.redact.length === 0
        );
      }),
  };
}
