import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded the first time it is used, synchronously, so that importing Baton does not
 * load what a program may never need (Cedar, the AI SDK, zod). Node ≥ 22.12 requires ES modules
 * too. The specifier is resolved as `import` resolves it, so a package with both an ES module and a
 * CommonJS build (zod, the AI SDK) gives back the very instance the program imports, not a second
 * copy whose schemas and classes the first does not know.
 *
 * @example
 * const cedar = lazyModule<typeof import('@cedar-policy/cedar-wasm/nodejs')>('@cedar-policy/cedar-wasm/nodejs');
 * cedar().checkParsePolicySet({ staticPolicies: text });
 */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(importPath(specifier)) as T);
}

/** The file `import(specifier)` would load from here; the bare specifier where that cannot be known. */
function importPath(specifier: string): string {
  try {
    const url = import.meta.resolve(specifier);
    return url.startsWith('file:') ? fileURLToPath(url) : specifier;
  } catch {
    return specifier;
  }
}

/**
 * A value made the first time it is asked for, so that building it (a zod schema, a table) costs
 * nothing at import time.
 *
 * @example
 * const schema = lazyValue(() => z.object({ task: z.string() }));
 * schema().parse(input);
 */
export function lazyValue<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * An object that stands for one made on first use: every property read, call of a method,
 * `in`, `instanceof` and key listing is the made object's. For a public constant whose making loads a
 * dependency (`planSchema`, a zod schema), so that importing Baton loads nothing until it is used.
 *
 * @example
 * export const planSchema: z.ZodType<PlanSpec> = lazyObject(() => z.object({ tasks: z.array(task) }));
 */
export function lazyObject<T extends object>(make: () => T): T {
  const made = lazyValue(make);
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(made(), key),
    set: (_, key, value) => Reflect.set(made(), key, value),
    has: (_, key) => Reflect.has(made(), key),
    ownKeys: () => Reflect.ownKeys(made()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(made(), key);
      // A proxy may only report a property as its target has it: as configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(made(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(made(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(made()),
  });
}

/** zod, loaded the first time a schema is made or checked: importing Baton does not load it. */
export const zod = lazyModule<typeof import('zod')>('zod');
