import { conversationHash, messageStore, type JournalMessage, type RequestRef } from '../agents/messages.ts';
import type { JournalEvent, JournalEventPayloads, JournalEventType } from '../journal/events.ts';
import type { ExplanationNode, ExplanationNodeKind, ExplanationStatus } from './explanation.ts';

/** What every node builder reads: the run's events, its messages by hash, and where a fork's copies end. */
export class NodeContext {
  readonly events: readonly JournalEvent[];
  readonly messages: Map<string, JournalMessage>;
  /** Seqs up to this one were copied from a fork's origin (0 for a run that is not a fork). */
  readonly copiedUpTo: number;
  readonly #requests = new Map<number, JournalMessage[] | undefined>();
  #conversations: Map<string, RequestRef> | undefined;

  constructor(events: readonly JournalEvent[], copiedUpTo: number) {
    this.events = events;
    this.messages = messageStore(events);
    this.copiedUpTo = copiedUpTo;
  }

  message(hash: string | undefined): JournalMessage | undefined {
    return hash === undefined ? undefined : this.messages.get(hash);
  }

  /**
   * The full request an `llm.called` event sent (its chain of conversations resolved, as
   * `requestMessages` does, with the run's requests indexed once), or undefined when the journal
   * lacks part of it.
   */
  request(call: JournalEvent<'llm.called'>): JournalMessage[] | undefined {
    if (this.#requests.has(call.seq)) return this.#requests.get(call.seq);
    if (!this.#conversations) {
      this.#conversations = new Map();
      for (const event of this.events) {
        if (event.type !== 'llm.called') continue;
        const request = event.payload.request;
        this.#conversations.set(conversationHash(request), request);
      }
    }
    const chain: string[][] = [];
    let request: RequestRef | undefined = call.payload.request;
    let messages: JournalMessage[] | undefined;
    while (request) {
      chain.unshift(request.append);
      if (request.base === undefined) {
        const resolved = chain.flat().map((hash) => this.messages.get(hash));
        messages = resolved.every((message) => message !== undefined) ? resolved : undefined;
        break;
      }
      request = this.#conversations.get(request.base);
    }
    this.#requests.set(call.seq, messages);
    return messages;
  }

  /** A node's common fields, from its events. */
  node(
    kind: ExplanationNodeKind,
    title: string,
    events: readonly JournalEvent[],
    status: ExplanationStatus,
  ): ExplanationNode {
    const first = events[0]!;
    const op = (first.payload as { op?: unknown }).op;
    return {
      kind,
      title,
      ...(typeof op === 'number' ? { op } : {}),
      seqs: events.map((event) => event.seq),
      at: first.at,
      status,
      identity: { actor: first.actor, onBehalfOf: [...first.onBehalfOf] },
      ...(this.copiedUpTo > 0 && events.every((event) => event.seq <= this.copiedUpTo)
        ? { copied: true as const }
        : {}),
      children: [],
    };
  }
}

/** The first event of a type among `events`, typed. */
export function first<T extends JournalEventType>(
  events: readonly JournalEvent[],
  type: T,
): JournalEvent<T> | undefined {
  return events.find((event): event is JournalEvent<T> => event.type === type);
}

/** Every event of a type among `events`, typed. */
export function all<T extends JournalEventType>(events: readonly JournalEvent[], type: T): JournalEvent<T>[] {
  return events.filter((event): event is JournalEvent<T> => event.type === type);
}

/** The last event of a type among `events`, typed. */
export function last<T extends JournalEventType>(
  events: readonly JournalEvent[],
  type: T,
): JournalEvent<T> | undefined {
  return all(events, type).at(-1);
}

export type Payload<T extends JournalEventType> = JournalEventPayloads[T];

/** Milliseconds between two ISO times. */
export function between(from: string, to: string): number {
  return Math.max(0, Date.parse(to) - Date.parse(from));
}

/** Sets how long a node's op took, from one event to another, when both are journaled. */
export function took(
  node: ExplanationNode,
  from: JournalEvent | undefined,
  to: JournalEvent | undefined,
): void {
  if (from && to) node.durationMs = between(from.at, to.at);
}
