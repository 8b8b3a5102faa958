import { openStore } from '../../store/open-store.ts';
import { defineCommand } from '../command.ts';
import { displayStore } from '../load-config.ts';

export const migrate = defineCommand({
  name: 'migrate',
  summary: 'Create or upgrade the store schema',
  details:
    'Opening a store applies its pending migrations (each once, in a transaction); a store written by a\n' +
    'newer Baton is refused and left untouched. The store comes from --store, the config, BATON_STORE,\n' +
    'DATABASE_URL (postgres) or sqlite:./baton.db, in that order.',
  async run({ out, json, loadConfig }) {
    const loaded = await loadConfig();
    const store = await openStore(loaded.store);
    try {
      if (json) out.json({ store: store.location, source: loaded.storeSource, migrated: true });
      else
        out.line(`Store ${displayStore(loaded.store)} (from ${loaded.storeSource}) is migrated and ready.`);
    } finally {
      // A Store object from the config belongs to the config; a URL was opened here.
      if (typeof loaded.store === 'string') await store.close();
    }
  },
});
