/**
 * `definedFields({ reason, by })`: the object without its undefined fields. Journal payloads,
 * records and options carry a field only when it has a value (canonical JSON has no `undefined`),
 * so instead of one `...(x === undefined ? {} : { x })` per field, spread this once:
 *
 * ```ts
 * const payload = { op, ...definedFields({ reason: request.reason, by: request.by }) };
 * ```
 */
export function definedFields<T extends Record<string, unknown>>(fields: T): DefinedFields<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) if (fields[key] !== undefined) out[key] = fields[key];
  return out as DefinedFields<T>;
}

/** The fields of T, with those that may be undefined made optional and never undefined. */
export type DefinedFields<T> = { [K in RequiredKeys<T>]: T[K] } & {
  [K in OptionalKeys<T>]?: Exclude<T[K], undefined>;
};

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
type RequiredKeys<T> = Exclude<keyof T, OptionalKeys<T>>;
