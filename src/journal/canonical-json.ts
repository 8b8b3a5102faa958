import { NotSerializableError } from '../errors.ts';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers in JavaScript's
 * shortest round-trip form (as RFC 8785). The same value always encodes to the same bytes, so a
 * hash over it is stable across processes, machines and store backends.
 *
 * It also refuses what JSON cannot keep faithfully, naming the path: `undefined` inside arrays,
 * functions, symbols, bigints, non-finite numbers, cycles, and objects that are not plain data
 * (a Date would come back from the journal as a string, a Map as `{}`).
 * `undefined` object properties are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown, what = 'Value'): string {
  const seen = new Set<object>();
  const encode = (v: unknown, path: string): string => {
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) throw new NotSerializableError({ what, path, reason: `${v} is not a finite number` });
        return JSON.stringify(v);
      case 'undefined':
        throw new NotSerializableError({ what, path, reason: 'undefined has no JSON form' });
      case 'bigint':
        throw new NotSerializableError({ what, path, reason: 'a bigint has no JSON form; use a string' });
      case 'function':
        throw new NotSerializableError({ what, path, reason: 'a function cannot be stored' });
      case 'symbol':
        throw new NotSerializableError({ what, path, reason: 'a symbol cannot be stored' });
    }
    if (v === null) return 'null';
    const object = v as object;
    if (seen.has(object)) throw new NotSerializableError({ what, path, reason: 'the value refers to itself (a cycle)' });
    if (Array.isArray(object)) {
      seen.add(object);
      const parts = object.map((item, index) => encode(item, `${path}[${index}]`));
      seen.delete(object);
      return `[${parts.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      const hint = kind === 'Date' ? '; use toISOString()' : kind === 'Map' || kind === 'Set' ? '; use an array or plain object' : '';
      throw new NotSerializableError({ what, path, reason: `a ${kind} is not plain data${hint}` });
    }
    seen.add(object);
    const record = object as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${encode(item, `${path}${propertyPath(key)}`)}`);
    }
    seen.delete(object);
    return `{${parts.join(',')}}`;
  };
  return encode(value, '$');
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
