/** What a redacted field reads as in the journal. */
export const REDACTED = '[redacted]';

/**
 * A copy of `value` with the fields at `paths` replaced, so configured fields (card numbers, API
 * keys) never enter the journal. Paths are dotted (`card.number`); `*` stands for any one key or
 * index (`items.*.sku`); a path that meets an array goes through each item (`cards.number`).
 * Fields that are absent stay absent. The input is not modified.
 *
 * @example redact({ card: { number: '4111…', exp: '12/30' }, apiKey: 'sk_…' }, ['card.number', 'apiKey'])
 *   // { card: { number: '[redacted]', exp: '12/30' }, apiKey: '[redacted]' }
 */
export function redact<T>(value: T, paths: readonly string[], replacement: unknown = REDACTED): T {
  let result: unknown = value;
  for (const path of paths) {
    const segments = path.split('.').filter((segment) => segment !== '');
    if (segments.length > 0) result = redactPath(result, segments, replacement);
  }
  return result as T;
}

function redactPath(value: unknown, segments: readonly string[], replacement: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) {
    const index = Number(head);
    if (head === '*' || !Number.isInteger(index)) {
      // Through each item: `*` names the item itself, any other key is looked for inside it.
      const inner = head === '*' ? rest : segments;
      return value.map((item) => (inner.length === 0 ? replacement : redactPath(item, inner, replacement)));
    }
    if (index < 0 || index >= value.length) return value;
    const copy = [...value];
    copy[index] = rest.length === 0 ? replacement : redactPath(value[index], rest, replacement);
    return copy;
  }
  const record = value as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(record) : Object.hasOwn(record, head) ? [head] : [];
  if (keys.length === 0) return value;
  const copy: Record<string, unknown> = { ...record };
  for (const key of keys)
    copy[key] = rest.length === 0 ? replacement : redactPath(record[key], rest, replacement);
  return copy;
}
