import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded the first time it is used, synchronously, so that importing Baton does not
 * load what a program may never need (Cedar, the AI SDK). Node ≥ 22.12 requires ES modules too, and
 * gives back the same instance `import` does.
 *
 * @example
 * const cedar = lazyModule<typeof import('@cedar-policy/cedar-wasm/nodejs')>('@cedar-policy/cedar-wasm/nodejs');
 * cedar().checkParsePolicySet({ staticPolicies: text });
 */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
