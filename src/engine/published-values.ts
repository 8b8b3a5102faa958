import { setTimeout as delay } from 'node:timers/promises';
import { BatonError, InvalidArgumentError } from '../errors.ts';
import { editDistance } from '../edit-distance.ts';
import type { JournalEvent } from '../journal/events.ts';
import { isTerminal, type Store, type TenantScope } from '../store/store.ts';
import type { OperationApi } from './context.ts';
import { checkPayload } from './check-payload.ts';

/** The longest key of a published value. */
export const MAX_EVENT_KEY_LENGTH = 256;

/** A value a run published with `ctx.setEvent`, as its journal holds it. */
export interface PublishedValue {
  key: string;
  value: unknown;
  /** The seq of the `event.published` that set it. */
  seq: number;
  /** ISO-8601. */
  at: string;
}

/** Throws InvalidArgumentError unless `key` can name a published value. */
export function checkEventKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_EVENT_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `An event key is a non-empty string of at most ${MAX_EVENT_KEY_LENGTH} characters, got ${JSON.stringify(key)}.`,
    );
  }
}

/**
 * `ctx.setEvent`: journals `event.published` (committed before it resolves, so readers see it at
 * once); on replay, returns without writing again. Key and value are checked before an op is taken.
 */
export function publishValue(operations: OperationApi, key: string, value: unknown): Promise<void> {
  try {
    checkEventKey(key);
    checkPayload(value ?? null, `The value of event '${key}'`, operations.maxPayloadBytes);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return operations.run(`event:${key}`, async (op) => {
    if (op.recorded.some((event) => event.type === 'event.published')) return;
    await op.append([{ type: 'event.published', payload: { op: op.op, name: key, value: value ?? null } }]);
  });
}

/** The latest value of each key among `events` (a run's journal, or its `event.published` events). */
export function latestValues(events: readonly JournalEvent[]): Map<string, PublishedValue> {
  const values = new Map<string, PublishedValue>();
  for (const event of events) {
    if (event.type !== 'event.published') continue;
    const { name, value } = event.payload;
    const known = values.get(name);
    if (known === undefined || known.seq < event.seq)
      values.set(name, { key: name, value, seq: event.seq, at: event.at });
  }
  return values;
}

/**
 * The values a run published, latest per key (only `key`'s when given), read from the store
 * without replaying the run: through the store's event query when it has one, else its journal.
 */
export async function readPublishedValues(
  store: Store,
  runId: string,
  options: { key?: string; scope?: TenantScope } = {},
): Promise<Map<string, PublishedValue>> {
  if (store.queryEvents) {
    const events = await store.queryEvents({
      runId,
      types: ['event.published'],
      ...(options.key === undefined ? {} : { payload: { name: options.key } }),
      ...(options.scope === undefined ? {} : { tenant: options.scope.tenant }),
      limit: 1_000_000,
    });
    return latestValues(events);
  }
  const events = await store.readEvents(runId, 1, options.scope);
  const values = latestValues(events);
  if (options.key === undefined) return values;
  const one = values.get(options.key);
  return one === undefined ? new Map() : new Map([[options.key, one]]);
}

/**
 * The latest value the run published under `key`, waiting up to `timeoutMs` for it to appear:
 * undefined when the time passes, or the run finishes, without it. Reads the store (polling every
 * `pollMs`); no worker is involved.
 */
export async function waitForPublishedValue(
  store: Store,
  runId: string,
  key: string,
  options: { timeoutMs: number; pollMs?: number; scope?: TenantScope },
): Promise<PublishedValue | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const finished = await store
      .getRun(runId, options.scope)
      .then((run) => run !== undefined && isTerminal(run.status));
    const found = (
      await readPublishedValues(store, runId, { key, ...(options.scope ? { scope: options.scope } : {}) })
    ).get(key);
    if (found !== undefined || finished || Date.now() >= deadline) return found;
    await delay(Math.min(options.pollMs ?? 100, Math.max(0, deadline - Date.now())));
  }
}

export type { WorkflowQuery } from './context.ts';

/** The query was not declared by the run's workflow (`workflow(name, fn, { queries })`). */
export class UnknownQueryError extends BatonError {
  constructor(args: { workflow: string; query: string; known: readonly string[] }) {
    const near = args.known.find((name) => editDistance(name, args.query) <= 2);
    super(
      'UNKNOWN_QUERY',
      `Workflow '${args.workflow}' declares no query '${args.query}'.` +
        (near === undefined ? '' : ` Did you mean '${near}'?`) +
        ` Declared: ${args.known.length ? args.known.join(', ') : '(none)'}.`,
    );
  }
}
