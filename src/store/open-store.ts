import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /**
   * Create the store (SQLite file, Baton's tables, the PostgreSQL schema) when it is not there.
   * Default true; false fails with StoreNotFoundError and writes nothing (tools that only read).
   */
  create?: boolean;
  /** Open an existing SQLite store for reading only: nothing migrated or written (auditors' copies). */
  readOnly?: boolean;
}

/**
 * Opens a store from a URL: `sqlite:./baton.db`, `sqlite::memory:`, a path ending in `.db`, or
 * `postgres://…` (the `baton/postgres` store). A Store object is returned as it is. With `readOnly`,
 * a SQLite store is opened for reading only (nothing migrated or written).
 */
export async function openStore(store: string | Store, options: OpenStoreOptions = {}): Promise<Store> {
  if (typeof store !== 'string') return store;
  const create = options.create === false ? { create: false } : {};
  if (store.startsWith('postgres://') || store.startsWith('postgresql://')) {
    // Loaded only for a PostgreSQL URL, so SQLite users never load `pg`.
    const { PostgresStore } = await import('./postgres/postgres-store.ts').catch((cause: unknown) => {
      throw new ConfigError(
        `The PostgreSQL store cannot be loaded (is the 'pg' package installed?): ${String(cause)}`,
        { cause },
      );
    });
    return PostgresStore.open({ url: store, ...create });
  }
  // A store not there yet is not opened read-only: with `create: false` it is a StoreNotFoundError.
  const readOnly = (path: string): boolean => options.readOnly === true && existsSync(path);
  if (store.startsWith('sqlite:'))
    return SqliteStore.open({
      path: store.slice('sqlite:'.length) || ':memory:',
      readOnly: readOnly(store.slice('sqlite:'.length)),
      ...create,
    });
  if (store === ':memory:' || /\.(db|sqlite|sqlite3)$/.test(store))
    return SqliteStore.open({ path: store, readOnly: readOnly(store), ...create });
  throw new ConfigError(
    `Cannot read the store '${store}': use 'sqlite:./baton.db', 'sqlite::memory:' or 'postgres://user@host/db'.`,
  );
}
