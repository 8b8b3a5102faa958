import { canonicalJson } from './canonical-json.ts';
import type { JournalEvent, JournalEventOf, JournalEventType, UnsealedEvent } from './events.ts';

/**
 * node:crypto, loaded at the first hash rather than with this module: a process that only reads a
 * store (`baton runs`) reads rows through it but hashes nothing, and loading node:crypto costs it a
 * few ms of its start.
 */
let nodeCrypto: typeof import('node:crypto') | undefined;

/** The prevHash of a run's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical JSON of payloads, by payload object: set when an event is sealed (so the store
 * writes it without encoding it again), or before, by a maker that already holds it.
 */
const payloadTexts = new WeakMap<object, string>();

/**
 * Hands `sealEvent` the canonical JSON of `payload`, so it is not encoded again. `json` must be
 * exactly `canonicalJson(payload)` (src/engine/step-completed.test.ts checks the engine's maker).
 */
export function withCanonicalJson<P extends object>(payload: P, json: string): P {
  payloadTexts.set(payload, json);
  return payload;
}

/**
 * sha256 over the canonical encoding of every field of the event except `hash`:
 * `canonicalJson({ actor, at, onBehalfOf, payload, prevHash, runId, seq, type })`, written out here
 * with the payload encoded once (the keys are in canonical order).
 */
export function hashEvent(event: Omit<JournalEvent, 'hash'>): string {
  return hashWithPayload(event, canonicalJson(event.payload, 'Journal event payload'));
}

/** As hashEvent, with the payload's canonical JSON given. */
export function hashWithPayload(event: Omit<JournalEvent, 'hash'>, payloadJson: string): string {
  const text =
    `{"actor":${actorJson.of(event.actor)},"at":${atJson.of(event.at)},` +
    `"onBehalfOf":${chainJson(event.onBehalfOf)},"payload":${payloadJson},` +
    `"prevHash":${JSON.stringify(event.prevHash)},"runId":${runIdJson.of(event.runId)},` +
    `"seq":${Number.isSafeInteger(event.seq) ? String(event.seq) : canonicalJson(event.seq, 'Journal event seq')},` +
    `"type":${typeJson.of(event.type)}}`;
  // One-shot: no Hash object per event (node ≥ 21.7).
  return (nodeCrypto ??= process.getBuiltinModule('node:crypto')).hash('sha256', text, 'hex');
}

/** A string's JSON, kept for the next call: a journal seals or checks event after event of one run. */
class StringJson {
  #value = '';
  #json = '""';

  of(value: string): string {
    if (value !== this.#value) {
      this.#json = JSON.stringify(value);
      this.#value = value;
    }
    return this.#json;
  }
}

const actorJson = new StringJson();
const runIdJson = new StringJson();
const atJson = new StringJson();
const typeJson = new StringJson();
let lastChain: readonly string[] | undefined;
let lastChainJson = '[]';

/**
 * An identity chain (strings) as canonical JSON: for strings alone, JSON.stringify is canonical.
 * The same frozen array (a journal's chain, shared by its events) is encoded once.
 */
function chainJson(chain: readonly string[]): string {
  if (chain === lastChain) return lastChainJson;
  if (!chain.every((entry) => typeof entry === 'string'))
    return canonicalJson(chain, 'Journal event onBehalfOf');
  const json = JSON.stringify(chain);
  // Only an array that cannot change (of strings, which cannot either) is remembered by identity.
  if (Object.isFrozen(chain)) {
    lastChain = chain;
    lastChainJson = json;
  }
  return json;
}

/** The canonical JSON of an event's payload: from its maker when it gave it, else encoded now and kept. */
export function canonicalPayloadJson(payload: unknown): string {
  let payloadJson = typeof payload === 'object' && payload !== null ? payloadTexts.get(payload) : undefined;
  if (payloadJson === undefined) {
    payloadJson = canonicalJson(payload, 'Journal event payload');
    if (typeof payload === 'object' && payload !== null) payloadTexts.set(payload, payloadJson);
  }
  return payloadJson;
}

export function sealEvent(event: UnsealedEvent): JournalEvent;
export function sealEvent<T extends JournalEventType>(
  event: Omit<JournalEventOf<T>, 'hash'>,
): JournalEventOf<T>;
export function sealEvent<T extends JournalEventType>(
  event: Omit<JournalEventOf<T>, 'hash'>,
): JournalEventOf<T> {
  return { ...event, hash: hashWithPayload(event, canonicalPayloadJson(event.payload)) };
}

/** The event's identity chain as JSON text (the journal's shared chain is encoded once). */
export function onBehalfOfJsonOf(event: JournalEvent): string {
  const chain = event.onBehalfOf;
  return chain === lastChain ? lastChainJson : JSON.stringify(chain);
}

/** The event's payload as JSON text: its canonical encoding when this process sealed it. */
export function payloadJsonOf(event: JournalEvent): string {
  return payloadTexts.get(event.payload) ?? JSON.stringify(event.payload);
}

export type ChainBreak =
  | { kind: 'seq'; seq: number; expected: number; found: number }
  | { kind: 'prevHash'; seq: number; expected: string; found: string }
  | { kind: 'hash'; seq: number; expected: string; found: string }
  | { kind: 'runId'; seq: number; expected: string; found: string };

export interface ChainVerification {
  ok: boolean;
  events: number;
  head: string;
  /** The first broken link, if any. */
  broken?: ChainBreak;
}

/**
 * Checks a run's events from the first: seq 1, 2, 3… with no gap, each prevHash equal to the
 * previous hash, each hash equal to the hash of the event's content. Editing any byte, deleting,
 * inserting or reordering an event breaks a link; the first broken one is reported.
 */
export function verifyChain(events: readonly JournalEvent[], runId?: string): ChainVerification {
  let prev = GENESIS_HASH;
  const expectedRun = runId ?? events[0]?.runId;
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    const expectedSeq = index + 1;
    if (event.runId !== expectedRun) {
      return fail(index, { kind: 'runId', seq: event.seq, expected: expectedRun ?? '', found: event.runId });
    }
    if (event.seq !== expectedSeq) {
      return fail(index, { kind: 'seq', seq: event.seq, expected: expectedSeq, found: event.seq });
    }
    if (event.prevHash !== prev) {
      return fail(index, { kind: 'prevHash', seq: event.seq, expected: prev, found: event.prevHash });
    }
    const actual = hashEvent(event);
    if (actual !== event.hash)
      return fail(index, { kind: 'hash', seq: event.seq, expected: actual, found: event.hash });
    prev = event.hash;
  }
  return { ok: true, events: events.length, head: prev };

  function fail(index: number, broken: ChainBreak): ChainVerification {
    return { ok: false, events: index, head: prev, broken };
  }
}
