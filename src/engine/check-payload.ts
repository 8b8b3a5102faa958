import { PayloadTooLargeError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';

/** Throws NotSerializableError (naming the path) or PayloadTooLargeError unless `value` can be journaled. */
export function checkPayload(value: unknown, what: string, maxPayloadBytes: number): void {
  encodePayload(value, what, maxPayloadBytes);
}

/** As checkPayload, and returns the value's canonical JSON (so its event is not encoded twice). */
export function encodePayload(value: unknown, what: string, maxPayloadBytes: number): string {
  const json = canonicalJson(value, what);
  // A UTF-16 unit is at most 3 UTF-8 bytes: a text that short is within the limit uncounted.
  const bytes = json.length * 3 <= maxPayloadBytes ? json.length : Buffer.byteLength(json);
  if (bytes > maxPayloadBytes) throw new PayloadTooLargeError({ what, bytes, limit: maxPayloadBytes });
  return json;
}
