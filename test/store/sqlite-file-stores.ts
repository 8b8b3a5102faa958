import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * `makeStore` and `cleanup` for a conformance suite on SQLite files: each store in `baton.db` in a
 * fresh temporary folder (named from `prefix`), which `cleanup` removes once the suite has closed it.
 */
export function sqliteFileStores(prefix: string): {
  makeStore: () => Promise<SqliteStore>;
  cleanup: (store: Store) => Promise<void>;
} {
  const directories = new Map<object, string>();
  return {
    async makeStore() {
      const directory = await mkdtemp(join(tmpdir(), prefix));
      const store = SqliteStore.open({ path: join(directory, 'baton.db') });
      directories.set(store, directory);
      return store;
    },
    async cleanup(store) {
      await rm(directories.get(store)!, { recursive: true, force: true });
      directories.delete(store);
    },
  };
}
