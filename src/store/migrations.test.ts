import { describe, expect, it } from 'vitest';
import { MIGRATIONS, backendMigrations } from './migrations.ts';
import { sqliteMigrations } from './sqlite/sqlite-migrations.ts';
import { postgresMigrations } from './postgres/postgres-migrations.ts';

describe('one list of migration ids', () => {
  it('keeps the versions databases already record, per backend', () => {
    // Stores written before the list of ids hold these numbers; they must keep meaning the same schema.
    const recorded = MIGRATIONS.slice(0, 11).map((entry) => [entry.id, entry.sqlite, entry.postgres]);
    expect(recorded).toEqual([
      ['runs-events-signals', 1, 1],
      ['fair-queue', 4, 2],
      ['vector-records', 2, 6],
      ['signed-checkpoints', 3, 3],
      ['resource-pools', 4, 4],
      ['paused-runs', 5, 5],
      ['approval-inbox', 6, 7],
      ['budget-ledgers', 7, 8],
      ['checkpoint-status', 8, 9],
      ['keyed-signals-and-published-values', 9, 10],
      ['timed-out-runs-finish', 10, 11],
    ]);
  });

  it('gives each migration after those the next version of both backends', () => {
    const later = MIGRATIONS.slice(10);
    for (let index = 1; index < later.length; index++) {
      expect(later[index]!.sqlite, later[index]!.id).toBe(later[index - 1]!.sqlite + 1);
      expect(later[index]!.postgres, later[index]!.id).toBe(later[index - 1]!.postgres + 1);
    }
    expect(new Set(MIGRATIONS.map((entry) => entry.id)).size).toBe(MIGRATIONS.length);
  });

  it('numbers each backend’s steps 1, 2, 3… and applies every id exactly once', () => {
    for (const steps of [sqliteMigrations, postgresMigrations]) {
      expect(steps.map((step) => step.version)).toEqual(steps.map((_, index) => index + 1));
      expect(steps.flatMap((step) => step.ids).sort()).toEqual(MIGRATIONS.map((entry) => entry.id).sort());
    }
    // SQLite made its fair queue and its pools one step; PostgreSQL two.
    expect(sqliteMigrations[3]!.ids).toEqual(['fair-queue', 'resource-pools']);
    expect(postgresMigrations[1]!.ids).toEqual(['fair-queue']);
  });

  it('joins the SQL of the ids one step applies, in the order of the list', () => {
    const sql = Object.fromEntries(MIGRATIONS.map((entry) => [entry.id, `-- ${entry.id}\n`]));
    const steps = backendMigrations('sqlite', sql as Parameters<typeof backendMigrations>[1]);
    expect(steps[3]).toMatchObject({ version: 4, sql: '-- fair-queue\n-- resource-pools\n' });
  });
});
