import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempStore } from '../support/harness.ts';
import { workerRegistryConformance } from './worker-registry-conformance.ts';

workerRegistryConformance('sqlite', async () => {
  const { store, path, dispose } = await tempStore();
  return { store, dispose, connectAgain: async () => SqliteStore.open({ path }) };
});
