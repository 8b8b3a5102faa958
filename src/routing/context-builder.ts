import { InvalidArgumentError } from '../errors.ts';
import { embedChecked, type Embedder } from './embedder.ts';
import { LexicalEmbedder } from './lexical-embedder.ts';
import { estimateTokens, type TokenCounter } from './request-text.ts';
import { checkPositiveInteger, checkUnitInterval } from '../argument-checks.ts';
import { dot, normalize } from './vector-index.ts';

/** A turn of a conversation: the AI SDK's ModelMessage fits when its content is text. */
export interface HistoryMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

export interface BuildContextOptions<M extends HistoryMessage> {
  messages: readonly M[];
  /** The most tokens the selected messages may add up to. */
  tokens: number;
  /** What the next call is about. Default: the last user message. */
  query?: string;
  /** Compares messages with the query. Default: a {@link LexicalEmbedder} fitted on the messages. */
  embedder?: Embedder;
  /** The last messages kept whatever their relevance (while they fit). Default 4. */
  keepLast?: number;
  /** Weight of recency against relevance, in [0, 1]. Default 0.2. */
  recencyWeight?: number;
  /** A message's recency halves every this many messages back. Default 16. */
  recencyHalfLife?: number;
  countTokens?: TokenCounter;
  /**
   * Vectors by message text, kept across calls: a long-running agent that builds its context every
   * turn passes the same map and embeds each message once. Use it with a fixed embedder.
   */
  vectorCache?: Map<string, Float32Array>;
}

export interface BuiltContext<M extends HistoryMessage> {
  /** The selected messages, in their original order. */
  messages: M[];
  tokens: number;
  /** What sending the whole history would have cost. */
  fullTokens: number;
  /** How many messages were left out. */
  omitted: number;
}

/**
 * Selective hydration: instead of sending a long agent's whole history with every call, fills a
 * token budget with the messages that matter for the next call. System messages and the last
 * `keepLast` messages are kept; the remaining budget goes to earlier messages by
 * (1 − recencyWeight)·relevance + recencyWeight·recency, where relevance is the cosine similarity
 * to the query and recency is 2^(−messages back ÷ recencyHalfLife). The result keeps the original
 * order.
 *
 * Deterministic for a deterministic embedder (the default lexical one is). Its output feeds a model
 * call, which is journaled by whoever makes it, so replay does not depend on it.
 *
 * @example
 * const { messages } = await buildContext({ messages: history, tokens: 4000 });
 * await generateText({ model, system, messages });
 */
export async function buildContext<M extends HistoryMessage>(
  options: BuildContextOptions<M>,
): Promise<BuiltContext<M>> {
  const { messages } = options;
  if (!Array.isArray(messages))
    throw new InvalidArgumentError('buildContext needs messages: an array of { role, content }.');
  const budget = checkPositiveInteger(options.tokens, 'The context token budget');
  const keepLast = options.keepLast ?? 4;
  if (!Number.isInteger(keepLast) || keepLast < 0)
    throw new InvalidArgumentError(`keepLast must be a whole number ≥ 0, got ${String(keepLast)}.`);
  const recencyWeight = checkUnitInterval(options.recencyWeight ?? 0.2, 'The context recencyWeight');
  const halfLife = options.recencyHalfLife ?? 16;
  if (typeof halfLife !== 'number' || !(halfLife > 0))
    throw new InvalidArgumentError(
      `recencyHalfLife must be a number of messages above 0, got ${String(halfLife)}.`,
    );
  const count = options.countTokens ?? estimateTokens;
  const sizes = messages.map((message) => count(message.content));
  const fullTokens = sizes.reduce((sum, size) => sum + size, 0);
  if (fullTokens <= budget) return { messages: [...messages], tokens: fullTokens, fullTokens, omitted: 0 };

  const selected = new Set<number>();
  let used = 0;
  const take = (index: number): boolean => {
    if (selected.has(index) || used + sizes[index]! > budget) return false;
    selected.add(index);
    used += sizes[index]!;
    return true;
  };
  messages.forEach((message, index) => message.role === 'system' && take(index));
  for (let index = messages.length - 1, kept = 0; index >= 0 && kept < keepLast; index--) {
    if (messages[index]!.role === 'system') continue;
    take(index);
    kept++;
  }

  const rest = messages.map((_, index) => index).filter((index) => !selected.has(index));
  if (rest.length > 0 && used < budget) {
    const query =
      options.query ?? [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const embedder =
      options.embedder ?? new LexicalEmbedder().fit(messages.map((message) => message.content));
    const cache = options.vectorCache ?? new Map<string, Float32Array>();
    const texts = [query, ...rest.map((index) => messages[index]!.content)];
    const missing = [...new Set(texts.filter((text) => !cache.has(text)))];
    const embedded = await embedChecked(embedder, missing);
    missing.forEach((text, index) => cache.set(text, normalize(embedded[index]!)));
    const q = cache.get(query)!;
    const last = messages.length - 1;
    const scored = rest.map((index) => {
      const vector = cache.get(messages[index]!.content)!;
      const relevance = dot(q, 0, vector, 0, q.length);
      return {
        index,
        score: (1 - recencyWeight) * relevance + recencyWeight * 2 ** (-(last - index) / halfLife),
      };
    });
    scored.sort((a, b) => b.score - a.score || b.index - a.index);
    for (const { index } of scored) take(index);
  }
  const kept = [...selected].sort((a, b) => a - b).map((index) => messages[index]!);
  return { messages: kept, tokens: used, fullTokens, omitted: messages.length - kept.length };
}
