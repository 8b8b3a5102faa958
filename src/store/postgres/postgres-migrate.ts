import type pg from 'pg';
import { StoreCorruptError, StoreVersionError } from '../../errors.ts';
import { POSTGRES_SCHEMA_VERSION, postgresMigrations } from './postgres-migrations.ts';

/**
 * Brings the store's schema up to date. Safe from many processes at once: the migrations run in
 * one transaction holding a transaction-scoped advisory lock, and the version is read again once
 * the lock is held. A schema written by a newer Baton is refused before anything is written.
 */
export async function migrate(client: pg.PoolClient, schema: string, location: string): Promise<void> {
  const found = await readVersion(client, schema, location);
  if (found > POSTGRES_SCHEMA_VERSION) {
    throw new StoreVersionError({ location, found, supported: POSTGRES_SCHEMA_VERSION });
  }
  if (found === POSTGRES_SCHEMA_VERSION) return;

  const quoted = quoteIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('baton.migrate'), hashtext($1))`, [schema]);
    const current = await readVersion(client, schema, location);
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new StoreVersionError({ location, found: current, supported: POSTGRES_SCHEMA_VERSION });
    }
    if (current < POSTGRES_SCHEMA_VERSION) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoted}.baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      );
      for (const migration of postgresMigrations) {
        if (migration.version <= current) continue;
        await client.query(migration.sql.replaceAll('{schema}', quoted));
        await client.query(
          `INSERT INTO ${quoted}.baton_meta (key, value) VALUES ('schema_version', $1)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          [String(migration.version)],
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The schema version recorded in the store, 0 when there is none yet. */
export async function readVersion(client: pg.PoolClient, schema: string, location: string): Promise<number> {
  // Read from the catalog tables, under this statement's snapshot: name lookups such as to_regclass
  // may answer from a cache that still misses a schema another process created meanwhile.
  const table = await client.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'baton_meta') AS exists`,
    [schema],
  );
  if (!table.rows[0]?.exists) return 0;
  const row = await client.query<{ value: string }>(
    `SELECT value FROM ${quoteIdentifier(schema)}.baton_meta WHERE key = 'schema_version'`,
  );
  const version = Number(row.rows[0]?.value ?? 0);
  if (!Number.isInteger(version))
    throw new StoreCorruptError({ location, reason: 'its schema version is unreadable' });
  return version;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
