import type { DatabaseSync } from 'node:sqlite';
import { StoreCorruptError } from '../../errors.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';

/**
 * The schema version a SQLite store records (0 for a file with no tables, or a new one); a file
 * that is a SQLite database but not a Baton store is refused.
 */
export function readSchemaVersion(db: DatabaseSync, location: string, isNew: boolean): number {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all();
  if (tables.length === 0) return 0;
  if (!tables.some((table) => table.name === 'baton_meta')) {
    if (isNew) return 0;
    throw new StoreCorruptError({ location, reason: 'it is a SQLite database, but not a Baton store' });
  }
  const row = db.prepare(`SELECT value FROM baton_meta WHERE key = 'schema_version'`).get();
  const version = Number(row?.value);
  if (!Number.isInteger(version))
    throw new StoreCorruptError({ location, reason: 'its schema version is unreadable' });
  return version;
}

/**
 * Brings the store's schema up to date from version `from`: the pending steps in one transaction
 * that holds the write lock, the version read again once it is held (another process may have
 * migrated meanwhile).
 */
export function migrate(db: DatabaseSync, from: number): void {
  const pending = sqliteMigrations.filter((migration) => migration.version > from);
  if (pending.length === 0) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Another process may have migrated while we waited for the lock.
    const current = from === 0 ? currentVersionInside(db) : from;
    db.exec('CREATE TABLE IF NOT EXISTS baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    for (const migration of pending) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.prepare(
        `INSERT INTO baton_meta (key, value) VALUES ('schema_version', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(String(migration.version));
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

function currentVersionInside(db: DatabaseSync): number {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'baton_meta'`).get();
  if (!exists) return 0;
  return Number(db.prepare(`SELECT value FROM baton_meta WHERE key = 'schema_version'`).get()?.value ?? 0);
}
