import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { POSTGRES_SCHEMA_VERSION, postgresMigrations } from '../../src/store/postgres/postgres-migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SQLITE_SCHEMA_VERSION, sqliteMigrations } from '../../src/store/sqlite/sqlite-migrations.ts';
import type { Store } from '../../src/store/store.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from '../support/postgres-database.ts';
import { startedEvent } from '../../src/testing/sealed-events.ts';

const T0 = 1_700_000_000_000;
const OLD_RUN = {
  runId: 'run_old',
  workflow: 'orders',
  tenant: 'acme',
  principal: 'user:alice',
  input: {},
  createdAt: T0,
};
const event = startedEvent(OLD_RUN);

/** A store left by an older Baton works once opened: its run is claimed, read, and every capability is there. */
async function expectUpgraded(store: Store): Promise<void> {
  const claimed = await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0 });
  expect(claimed.map((run) => run.runId)).toEqual([OLD_RUN.runId]);
  expect((await store.readEvents(OLD_RUN.runId)).map((read) => read.hash)).toEqual([event.hash]);
  const scope = { collection: 'memory', tenant: 'acme', partition: '' };
  const record = await store.vectorRecords!.putVectorRecord({
    ...scope,
    key: 'k',
    space: 'test/2',
    vector: Float32Array.from([0.5, -2]),
    text: 'remembered',
    data: null,
    createdAt: T0,
  });
  expect((await store.vectorRecords!.scanVectorRecords(scope)).map((found) => found.id)).toEqual([record.id]);
  expect(await store.pendingApprovals!({ tenant: 'acme' })).toEqual([]);
  const checkpoint = {
    runId: OLD_RUN.runId,
    seq: 1,
    keyId: 'k1',
    headHash: event.hash,
    signedAt: 'now',
    signature: 's',
    status: 'running',
  };
  await store.checkpoints!.putCheckpoint(checkpoint);
  expect(await store.checkpoints!.listCheckpoints(OLD_RUN.runId)).toEqual([checkpoint]);
}

const RUN_ROW = `(run_id, workflow, tenant, principal, status, input, created_at, updated_at, last_seq, head_hash)`;
const EVENT_ROW = `(run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)`;
const eventValues = [
  event.runId,
  1,
  event.type,
  event.at,
  event.actor,
  '[]',
  JSON.stringify(event.payload),
  event.prevHash,
  event.hash,
];

describe('a SQLite store written by an older Baton', () => {
  it.each([1, 2, 3, 4, 9, 13])(
    'is brought from schema version %i to the current one, keeping its runs',
    async (version) => {
      const directory = await mkdtemp(join(tmpdir(), 'baton-upgrade-'));
      const path = join(directory, 'baton.db');
      try {
        // What Baton at that version left behind: its migrations, its version, a run.
        const old = new DatabaseSync(path);
        old.exec('CREATE TABLE baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
        for (const migration of sqliteMigrations.filter((step) => step.version <= version))
          old.exec(migration.sql);
        old.prepare(`INSERT INTO baton_meta VALUES ('schema_version', ?)`).run(String(version));
        old
          .prepare(
            `INSERT INTO runs ${RUN_ROW} VALUES (?, 'orders', 'acme', 'user:alice', 'pending', '{}', ?, ?, 1, ?)`,
          )
          .run(OLD_RUN.runId, T0, T0, event.hash);
        old.prepare(`INSERT INTO events ${EVENT_ROW} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...eventValues);
        old
          .prepare(
            `INSERT INTO runs ${RUN_ROW} VALUES ('run_done', 'orders', 'acme', 'user:alice', 'completed', '{}', ?, ?, 1, ?)`,
          )
          .run(T0, T0 + 5, event.hash);
        old.close();

        const store = SqliteStore.open({ path });
        try {
          await expectUpgraded(store);
        } finally {
          await store.close();
        }
        const reopened = new DatabaseSync(path);
        expect(
          reopened.prepare(`SELECT value FROM baton_meta WHERE key = 'schema_version'`).get()?.value,
        ).toBe(String(SQLITE_SCHEMA_VERSION));
        // A run that had finished is counted as finished since it last changed.
        expect(reopened.prepare(`SELECT finished_at FROM runs WHERE run_id = 'run_done'`).get()).toEqual({
          finished_at: T0 + 5,
        });
        // The copied journal still refuses a second event at a seq it holds (the writers' fence).
        expect(() =>
          reopened
            .prepare(`INSERT INTO events ${EVENT_ROW} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
            .run(...eventValues),
        ).toThrow(/UNIQUE/);
        reopened.close();
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  );
});

const unavailable = await postgresUnavailable();

describePostgres('a PostgreSQL schema written by an older Baton', unavailable, () => {
  const database = databaseForSuite();

  it.each([1, 2, 6, 10])(
    'is brought from schema version %i to the current one, keeping its runs',
    async (version) => {
      const schema = `upgrade_from_${version}`;
      await database.query(`CREATE SCHEMA ${schema}`);
      await database.query(`CREATE TABLE ${schema}.baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      for (const migration of postgresMigrations.filter((step) => step.version <= version))
        await database.query(migration.sql.replaceAll('{schema}', schema));
      await database.query(`INSERT INTO ${schema}.baton_meta VALUES ('schema_version', $1)`, [
        String(version),
      ]);
      await database.query(
        `INSERT INTO ${schema}.runs ${RUN_ROW} VALUES ($1, 'orders', 'acme', 'user:alice', 'pending', '{}', $2, $2, 1, $3)`,
        [OLD_RUN.runId, T0, event.hash],
      );
      await database.query(
        `INSERT INTO ${schema}.events ${EVENT_ROW} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        eventValues,
      );

      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 2 });
      try {
        await expectUpgraded(store);
        const [meta] = await database.query<{ value: string }>(`SELECT value FROM ${schema}.baton_meta`);
        expect(Number(meta!.value)).toBe(POSTGRES_SCHEMA_VERSION);
      } finally {
        await store.close();
      }
    },
  );
});
