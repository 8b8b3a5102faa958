import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

/** What a test file undoes when its tests are done: `push` one, it runs after them. */
export interface Cleanups {
  push(cleanup: () => unknown): void;
  /** A fresh temporary directory, removed with everything in it after the tests. */
  directory(prefix: string): Promise<string>;
}

/**
 * Cleanups that run after all tests of the file (`afterAll`), the last pushed first: what was
 * opened last (a Baton on a store) closes before what it stands on (the store, its directory).
 */
export function cleanupsAfterAll(): Cleanups {
  return cleanupsAfter(afterAll);
}

/** Cleanups that run after each test of the file (`afterEach`), the last pushed first. */
export function cleanupsAfterEach(): Cleanups {
  return cleanupsAfter(afterEach);
}

function cleanupsAfter(hook: typeof afterAll): Cleanups {
  const pending: (() => unknown)[] = [];
  hook(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  return {
    push: (cleanup) => pending.push(cleanup),
    async directory(prefix) {
      const path = await mkdtemp(join(tmpdir(), prefix));
      pending.push(() => rm(path, { recursive: true, force: true }));
      return path;
    },
  };
}
