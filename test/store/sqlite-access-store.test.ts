import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { accessStoreConformance } from './access-store-conformance.ts';

const directories = new Map<object, string>();

accessStoreConformance(
  'sqlite (file)',
  async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-access-store-'));
    const store = SqliteStore.open({ path: join(directory, 'baton.db') });
    directories.set(store, directory);
    return store;
  },
  async (store) => {
    await rm(directories.get(store)!, { recursive: true, force: true });
    directories.delete(store);
  },
);
