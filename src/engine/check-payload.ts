import { PayloadTooLargeError } from '../errors.ts';
import { canonicalJson } from '../journal/canonical-json.ts';

/** Throws NotSerializableError (naming the path) or PayloadTooLargeError unless `value` can be journaled. */
export function checkPayload(value: unknown, what: string, maxPayloadBytes: number): void {
  const bytes = Buffer.byteLength(canonicalJson(value, what));
  if (bytes > maxPayloadBytes) throw new PayloadTooLargeError({ what, bytes, limit: maxPayloadBytes });
}
