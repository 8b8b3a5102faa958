import { NestingTooDeepError, NotSerializableError } from '../errors.ts';

/**
 * The deepest nesting (objects and arrays) canonical JSON encodes. Deeper values are refused with
 * NESTING_TOO_DEEP instead of exhausting the stack; doors refuse far shallower ones first (Baton's
 * `maxDepth`, 64 by default).
 */
export const MAX_JSON_DEPTH = 1000;

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
export function canonicalJson(value: unknown, what = 'Value', maxDepth = MAX_JSON_DEPTH): string {
  // A lone string, finite number, boolean or null (a step's result, often) needs none of the walk's
  // bookkeeping below; everything else, refusals included, goes through the walk.
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))
    return JSON.stringify(value);
  if (typeof value === 'boolean' || value === null) return String(value);
  const seen = new Set<object>();
  let depth = 0;
  // The keys from the root to the value being encoded. The path is spelled out only for an error,
  // so the common case builds no path strings.
  const keys: (string | number)[] = [];
  const refuse = (reason: string): never => {
    throw new NotSerializableError({ what, path: spellPath(keys), reason });
  };
  const encode = (v: unknown): string => {
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) refuse(`${v} is not a finite number`);
        return JSON.stringify(v);
      case 'undefined':
        return refuse('undefined has no JSON form');
      case 'bigint':
        return refuse('a bigint has no JSON form; use a string');
      case 'function':
        return refuse('a function cannot be stored');
      case 'symbol':
        return refuse('a symbol cannot be stored');
    }
    if (v === null) return 'null';
    const object = v as object;
    if (seen.has(object)) refuse('the value refers to itself (a cycle)');
    if (++depth > maxDepth) throw new NestingTooDeepError({ what, limit: maxDepth });
    const out = encodeObject(object);
    depth--;
    return out;
  };
  const encodeObject = (object: object): string => {
    if (Array.isArray(object)) {
      seen.add(object);
      let out = '[';
      for (let index = 0; index < object.length; index++) {
        keys.push(index);
        out += (index === 0 ? '' : ',') + encode(object[index]);
        keys.pop();
      }
      seen.delete(object);
      return `${out}]`;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      const hint =
        kind === 'Date'
          ? '; use toISOString()'
          : kind === 'Map' || kind === 'Set'
            ? '; use an array or plain object'
            : '';
      refuse(`a ${kind} is not plain data${hint}`);
    }
    seen.add(object);
    const record = object as Record<string, unknown>;
    let out = '{';
    let first = true;
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      keys.push(key);
      out += `${first ? '' : ','}${JSON.stringify(key)}:${encode(item)}`;
      keys.pop();
      first = false;
    }
    seen.delete(object);
    return `${out}}`;
  };
  return encode(value);
}

/**
 * True when `value` nests objects and arrays deeper than `limit`. Iterative, so it answers for
 * values of any depth (a 10,000-deep body included) without touching the stack.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  // Each object is looked into once: a cycle is left for canonicalJson to name.
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    seen.add(item);
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

function spellPath(keys: readonly (string | number)[]): string {
  let path = '$';
  for (const key of keys) path += typeof key === 'number' ? `[${key}]` : propertyPath(key);
  return path;
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
