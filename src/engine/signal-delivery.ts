import { BatonError, InvalidArgumentError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';
import type { SignalDelivery } from '../store/store.ts';

/** What `baton.signal` did with a signal. */
export interface SignalReceipt {
  /** The id of the signal the run keeps: this one's, or, for a duplicate, the first one's. */
  signalId: string;
  /** True when a signal with the same idempotency key was already kept: nothing was sent again. */
  duplicate: boolean;
}

/** A signal idempotency key was reused for a different signal (another name or payload). */
export class SignalKeyConflictError extends BatonError {
  constructor(args: { runId: string; idempotencyKey: string; what: string }) {
    super(
      'SIGNAL_KEY_CONFLICT',
      `Run ${args.runId} already received a signal with idempotency key '${args.idempotencyKey}', ` +
        `with a different ${args.what}. A key names one signal: resend the same signal, or use a new key.`,
    );
  }
}

/** The longest signal idempotency key. */
export const MAX_SIGNAL_KEY_LENGTH = 256;

/** Throws InvalidArgumentError unless `key` is a usable signal idempotency key. */
export function checkSignalKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_SIGNAL_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `A signal's idempotencyKey is a non-empty string of at most ${MAX_SIGNAL_KEY_LENGTH} characters, got ${JSON.stringify(key)}.`,
    );
  }
}

/**
 * The receipt of a send: a duplicate (the key already kept) must be the same signal, the same name
 * and the same payload as canonical JSON, else SignalKeyConflictError.
 */
export function signalReceipt(
  delivery: SignalDelivery,
  sent: { signalId: string; runId: string; name: string; payload: unknown; idempotencyKey?: string },
): SignalReceipt {
  if (delivery.kept) return { signalId: sent.signalId, duplicate: false };
  const { existing } = delivery;
  const key = sent.idempotencyKey ?? '';
  if (existing.name !== sent.name)
    throw new SignalKeyConflictError({
      runId: sent.runId,
      idempotencyKey: key,
      what: `name ('${existing.name}')`,
    });
  if (canonicalJson(existing.payload ?? null) !== canonicalJson(sent.payload ?? null))
    throw new SignalKeyConflictError({ runId: sent.runId, idempotencyKey: key, what: 'payload' });
  return { signalId: existing.signalId, duplicate: true };
}
