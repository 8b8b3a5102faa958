import { createHash } from 'node:crypto';
import type { LanguageModelV4Message } from '@ai-sdk/provider';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { JournalEvent } from '../journal/events.ts';

/**
 * How the agents layer keeps conversations in the journal so that it grows linearly.
 *
 * An agent loop re-sends the whole conversation on every model call. Journaling each request whole
 * makes the journal quadratic in the conversation's length. Instead:
 *
 * - A message is the JSON form of an AI SDK prompt message (what the provider is sent); its hash is
 *   sha256 of its canonical JSON. Each message is journaled once per run, in the `messages` array
 *   of the event that introduced it: the system prompt and task in `agent.started`, the model's
 *   reply in its `llm.called` (last), a tool's result in its `tool.called`, anything else (a tool
 *   error, a correction) in the next `llm.called`. Hashes are not stored next to messages: a
 *   reader computes them, so a stored message cannot disagree with its address.
 * - A request is a chain: `request: { base?, append }`. `append` lists the hashes of the messages
 *   after `base`, where `base` is the conversation hash of an earlier request of the run whose
 *   messages are a prefix of this one. A conversation's hash folds its message hashes in order
 *   ({@link conversationHash}), so each call journals only what is new since the last one.
 *
 * {@link messageStore} and {@link requestMessages} read it back (for explain, the CLI, the UI).
 */
export type JournalMessage = LanguageModelV4Message;

/** A model request as journaled: the messages after `base` (a conversation hash), by hash. */
export interface RequestRef {
  base?: string;
  append: string[];
}

const hashes = new WeakMap<object, string>();

/** sha256 of the message's canonical JSON, hex. Cached per message object. */
export function messageHash(message: JournalMessage): string {
  const cached = hashes.get(message);
  if (cached !== undefined) return cached;
  const hash = createHash('sha256').update(canonicalJson(message, 'A model message')).digest('hex');
  hashes.set(message, hash);
  return hash;
}

/** The hash of a conversation that is `previous` (a conversation hash, or none) followed by one message. */
export function extendConversation(previous: string | undefined, message: string): string {
  return createHash('sha256')
    .update(`${previous ?? ''}:${message}`)
    .digest('hex');
}

/** The hash of the conversation a request ref describes. */
export function conversationHash(request: RequestRef): string {
  let hash = request.base;
  for (const message of request.append) hash = extendConversation(hash, message);
  if (hash === undefined) throw new Error('An empty request has no conversation hash.');
  return hash;
}

/** Every message journaled in these events, by hash. */
export function messageStore(events: readonly JournalEvent[]): Map<string, JournalMessage> {
  const store = new Map<string, JournalMessage>();
  for (const event of events) {
    const stored = (event.payload as { messages?: unknown }).messages;
    if (!Array.isArray(stored)) continue;
    for (const message of stored as JournalMessage[]) store.set(messageHash(message), message);
  }
  return store;
}

/**
 * The full list of messages an `llm.called` event sent to the model, resolved from the run's
 * events. Throws when the journal does not hold them (a truncated or foreign journal).
 */
export function requestMessages(events: readonly JournalEvent[], call: JournalEvent): JournalMessage[] {
  const requests = new Map<string, RequestRef>();
  for (const event of events) {
    if (event.type !== 'llm.called') continue;
    const request = (event.payload as { request: RequestRef }).request;
    requests.set(conversationHash(request), request);
  }
  const store = messageStore(events);
  const chain: string[][] = [];
  let request: RequestRef | undefined = (call.payload as { request: RequestRef }).request;
  while (request) {
    chain.unshift(request.append);
    if (request.base === undefined) break;
    const base = requests.get(request.base);
    if (!base) throw new Error(`Conversation ${request.base} is not in this journal.`);
    request = base;
  }
  return chain.flat().map((hash) => {
    const message = store.get(hash);
    if (!message) throw new Error(`Message ${hash} is not in this journal.`);
    return message;
  });
}

/**
 * What one run has journaled so far, for the agents layer of one activation: which messages are
 * stored and which conversations can serve as a base. Rebuilt by replay.
 */
export class ConversationLedger {
  readonly #stored = new Set<string>();
  readonly #conversations = new Set<string>();

  /** Marks messages as journaled (from recorded events on replay, or from events being written). */
  noteStored(messages: readonly unknown[] | undefined): void {
    for (const message of messages ?? []) this.#stored.add(messageHash(message as JournalMessage));
  }

  /** Marks messages known to be journaled by hash (the messages a recorded request referred to). */
  noteHashes(hashes: readonly string[]): void {
    for (const hash of hashes) this.#stored.add(hash);
  }

  noteConversation(hash: string): void {
    this.#conversations.add(hash);
  }

  /** The messages among `candidates` that the run has not journaled yet, marked as journaled now. */
  store(candidates: readonly JournalMessage[]): JournalMessage[] {
    const out: JournalMessage[] = [];
    for (const message of candidates) {
      const hash = messageHash(message);
      if (this.#stored.has(hash)) continue;
      this.#stored.add(hash);
      out.push(message);
    }
    return out;
  }

  /** The request ref for `messages`: the longest journaled prefix as base, the rest appended. */
  reference(messages: readonly JournalMessage[]): { request: RequestRef; conversation: string } {
    const messageHashes = messages.map(messageHash);
    let hash: string | undefined;
    let baseIndex = 0;
    let base: string | undefined;
    messageHashes.forEach((message, index) => {
      hash = extendConversation(hash, message);
      if (this.#conversations.has(hash)) {
        base = hash;
        baseIndex = index + 1;
      }
    });
    const request: RequestRef = {
      ...(base === undefined ? {} : { base }),
      append: messageHashes.slice(baseIndex),
    };
    return { request, conversation: hash! };
  }
}
