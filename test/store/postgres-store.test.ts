import * as vitest from 'vitest';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonError, StoreUnavailableError, StoreVersionError } from '../../src/errors.ts';
import type { JournalEvent } from '../../src/journal/events.ts';
import { sealEvent } from '../../src/journal/hash-chain.ts';
import { openStore } from '../../src/store/open-store.ts';
import { POSTGRES_SCHEMA_VERSION, postgresMigrations } from '../../src/store/postgres/postgres-migrations.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { PostgresStatements } from '../../src/store/postgres/postgres-statements.ts';
import { streamAppendStatements } from '../../src/store/postgres/postgres-run-streams.ts';
import type { NewRun, RunRecord, Store } from '../../src/store/store.ts';
import { until } from '../support/harness.ts';
import { databaseForSuite, describePostgres, postgresUnavailable } from '../support/postgres-database.ts';
import { accessStoreConformance } from './access-store-conformance.ts';
import { approvalInboxConformance } from './approval-inbox-conformance.ts';
import { budgetStoreConformance } from './budget-store-conformance.ts';
import { runStreamStoreConformance } from './run-stream-store-conformance.ts';
import { poolStoreConformance } from './pool-store-conformance.ts';
import { sealDrafts, startedEvent } from '../../src/testing/sealed-events.ts';
import { storeConformance } from 'baton/testing';
import { vectorRecordStoreConformance } from './vector-record-store-conformance.ts';
import { workerRegistryConformance } from './worker-registry-conformance.ts';

const unavailable = await postgresUnavailable();
const T0 = 1_700_000_000_000;

describePostgres('PostgresStore', unavailable, () => {
  const database = databaseForSuite();
  let schemaCounter = 0;
  const nextSchema = (prefix: string): string => `${prefix}_${++schemaCounter}`;
  /** A store of one connection on a fresh schema and a connection of the test's own, both closed after `use`. */
  const withStoreAndClient = async (
    prefix: string,
    use: (opened: { store: PostgresStore; client: pg.Client; schema: string }) => Promise<void>,
  ): Promise<void> => {
    const schema = nextSchema(prefix);
    const store = await PostgresStore.open({ url: database.url, schema, poolSize: 1 });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await use({ store, client, schema });
    } finally {
      await client.end();
      await store.close();
    }
  };

  // The shared contracts, on a fresh schema per test (the suites want an empty store each time).
  const schemas = new Map<Store, string>();
  const freshStore = async (): Promise<Store> => {
    const schema = nextSchema('conformance');
    const store = await PostgresStore.open({ url: database.url, schema, poolSize: 4 });
    schemas.set(store, schema);
    return store;
  };
  const dropSchema = async (store: Store): Promise<void> => {
    await database.query(`DROP SCHEMA ${schemas.get(store)!} CASCADE`);
    schemas.delete(store);
  };
  storeConformance('postgres', freshStore, dropSchema, vitest);
  accessStoreConformance('postgres', freshStore, dropSchema);
  poolStoreConformance('postgres', async () => {
    const store = await freshStore();
    return {
      store,
      dispose: async () => {
        await store.close();
        await dropSchema(store);
      },
    };
  });
  approvalInboxConformance('postgres', freshStore, dropSchema);
  // Suites that also open the schema again, as another process would.
  const freshStoreWithPeers = async () => {
    const store = await freshStore();
    const schema = schemas.get(store)!;
    return {
      store,
      dispose: async () => {
        await store.close();
        await dropSchema(store);
      },
      connectAgain: () => PostgresStore.open({ url: database.url, schema, poolSize: 4 }),
    };
  };
  vectorRecordStoreConformance('postgres', freshStoreWithPeers);
  budgetStoreConformance('postgres', freshStoreWithPeers);
  runStreamStoreConformance('postgres', freshStoreWithPeers);
  workerRegistryConformance('postgres', freshStoreWithPeers);

  function newRun(runId: string, overrides: Partial<NewRun> = {}): NewRun {
    return {
      runId,
      workflow: 'orders',
      tenant: 'acme',
      principal: 'user:alice',
      input: { runId },
      createdAt: T0,
      ...overrides,
    };
  }

  function stepAfter(
    run: { runId: string; lastSeq: number; headHash: string },
    op: number,
    seq = run.lastSeq + 1,
  ): JournalEvent {
    return sealEvent({
      runId: run.runId,
      seq,
      type: 'step.completed',
      at: new Date(T0).toISOString(),
      actor: 'workflow:orders',
      onBehalfOf: ['user:alice'],
      payload: { op, name: `step-${op}`, attempt: 1, result: op },
      prevHash: run.headHash,
    });
  }

  /** Creates runs of a workflow named after `prefix`, so claims for it lease these runs only. */
  async function createRuns(store: Store, count: number, prefix: string): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    for (let index = 0; index < count; index++) {
      const run = newRun(`${prefix}_${String(index).padStart(4, '0')}`, {
        createdAt: T0 + index,
        workflow: prefix,
      });
      runs.push((await store.createRun(run, startedEvent(run))).run);
    }
    return runs;
  }

  async function schemaSnapshot(schema: string): Promise<unknown> {
    const relations = await database.query(
      `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 ORDER BY c.relname`,
      [schema],
    );
    const meta = await database.query(`SELECT key, value FROM ${schema}.baton_meta ORDER BY key`);
    return { relations, meta };
  }

  describe('opening', () => {
    it('migrates one fresh schema from many connections at once, once', async () => {
      const schema = nextSchema('migrate');
      const stores = await Promise.all(
        Array.from({ length: 6 }, () => PostgresStore.open({ url: database.url, schema, poolSize: 1 })),
      );
      try {
        const meta = await database.query<{ value: string }>(
          `SELECT value FROM ${schema}.baton_meta WHERE key = 'schema_version'`,
        );
        expect(meta.map((row) => Number(row.value))).toEqual([POSTGRES_SCHEMA_VERSION]);
        // Every store works on the one schema.
        const run = newRun('run_shared');
        await stores[0]!.createRun(run, startedEvent(run));
        for (const store of stores) expect((await store.getRun('run_shared'))?.runId).toBe('run_shared');
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it('migrates a schema written by an older Baton, keeping its runs', async () => {
      const schema = nextSchema('older');
      // What Baton at schema version 1 left behind.
      await database.query(`CREATE SCHEMA ${schema}`);
      await database.query(`CREATE TABLE ${schema}.baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      await database.query(postgresMigrations[0]!.sql.replaceAll('{schema}', schema));
      await database.query(`INSERT INTO ${schema}.baton_meta VALUES ('schema_version', '1')`);
      const old = newRun('run_from_v1');
      const event = startedEvent(old);
      await database.query(
        `INSERT INTO ${schema}.runs (run_id, workflow, tenant, principal, status, input, created_at, updated_at, last_seq, head_hash)
         VALUES ($1, 'orders', 'acme', 'user:alice', 'pending', '{}', $2, $2, 1, $3)`,
        [old.runId, T0, event.hash],
      );

      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 2 });
      try {
        const [meta] = await database.query<{ value: string }>(`SELECT value FROM ${schema}.baton_meta`);
        expect(Number(meta!.value)).toBe(POSTGRES_SCHEMA_VERSION);
        const claimed = await store.claimRuns('worker-a', { limit: 10, leaseMs: 1000, now: T0 });
        expect(claimed.map((run) => run.runId)).toEqual(['run_from_v1']);
      } finally {
        await store.close();
      }
    });

    it('upgrades a schema of version 11: finished runs keep their finish time, and a run that finishes later gets one', async () => {
      const schema = nextSchema('version11');
      // What Baton at schema version 11 left behind: a finished run and a running one.
      await database.query(`CREATE SCHEMA ${schema}`);
      await database.query(`CREATE TABLE ${schema}.baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      for (const migration of postgresMigrations.filter((migration) => migration.version <= 11)) {
        await database.query(migration.sql.replaceAll('{schema}', schema));
      }
      await database.query(`INSERT INTO ${schema}.baton_meta VALUES ('schema_version', '11')`);
      for (const [runId, status, lease] of [
        ['run_done', 'completed', null],
        ['run_busy', 'running', 'worker-a'],
      ] as const) {
        const event = startedEvent(newRun(runId));
        await database.query(
          `INSERT INTO ${schema}.runs (run_id, workflow, tenant, principal, status, input, created_at, updated_at, last_seq, head_hash, lease_owner, lease_expires_at)
           VALUES ($1, 'orders', 'acme', 'user:alice', $2, '{}', $3, $4, 1, $5, $6, $7)`,
          [runId, status, T0, T0 + 42, event.hash, lease, lease ? T0 + 60_000 : null],
        );
        await database.query(
          `INSERT INTO ${schema}.events (run_id, seq, type, at, actor, on_behalf_of, payload, prev_hash, hash)
           VALUES ($1, 1, 'run.started', $2, $3, '[]', $4, $5, $6)`,
          [runId, event.at, event.actor, JSON.stringify(event.payload), event.prevHash, event.hash],
        );
      }

      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 2 });
      try {
        const [meta] = await database.query<{ value: string }>(`SELECT value FROM ${schema}.baton_meta`);
        expect(Number(meta!.value)).toBe(POSTGRES_SCHEMA_VERSION);
        const finishedAt = async (runId: string): Promise<number | null> => {
          const [row] = await database.query<{ finished_at: string | null }>(
            `SELECT finished_at FROM ${schema}.runs WHERE run_id = $1`,
            [runId],
          );
          return row!.finished_at === null ? null : Number(row!.finished_at);
        };
        expect(await finishedAt('run_done')).toBe(T0 + 42);
        expect(await finishedAt('run_busy')).toBeNull();

        const busy = (await store.getRun('run_busy'))!;
        const [step, done] = sealDrafts(busy, [
          { type: 'step.completed', payload: { op: 1, name: 'charge', attempt: 1, result: 1 }, at: T0 + 100 },
          { type: 'run.completed', payload: { result: 1 }, at: T0 + 200 },
        ]);
        expect(
          await store.commit([{ runId: busy.runId, owner: 'worker-a', events: [step!] }], T0 + 100),
        ).toEqual([{ ok: true }]);
        expect(await finishedAt('run_busy')).toBeNull();
        expect(
          await store.commit(
            [
              {
                runId: busy.runId,
                owner: 'worker-a',
                events: [done!],
                transition: { status: 'completed', result: 1 },
              },
            ],
            T0 + 200,
          ),
        ).toEqual([{ ok: true }]);
        expect(await finishedAt('run_busy')).toBe(T0 + 200);
        expect((await store.getRun('run_busy'))!.status).toBe('completed');
      } finally {
        await store.close();
      }
    });

    it('adds vector records, the approval inbox and budget ledgers to a schema of version 5', async () => {
      const schema = nextSchema('version5');
      // What Baton at schema version 5 (pools and pause, before these capabilities) left behind.
      await database.query(`CREATE SCHEMA ${schema}`);
      await database.query(`CREATE TABLE ${schema}.baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      for (const migration of postgresMigrations.filter((migration) => migration.version <= 5)) {
        await database.query(migration.sql.replaceAll('{schema}', schema));
      }
      await database.query(`INSERT INTO ${schema}.baton_meta VALUES ('schema_version', '5')`);

      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 2 });
      try {
        const [meta] = await database.query<{ value: string }>(`SELECT value FROM ${schema}.baton_meta`);
        expect(Number(meta!.value)).toBe(POSTGRES_SCHEMA_VERSION);
        expect(
          postgresMigrations
            .filter((migration) => migration.version > 5)
            .map((migration) => migration.version),
        ).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
        const scope = { collection: 'memory', tenant: 'acme', partition: '' };
        const record = await store.vectorRecords.putVectorRecord({
          ...scope,
          key: 'k',
          space: 'test/2',
          vector: Float32Array.from([0.5, -2]),
          text: 'remembered',
          data: null,
          createdAt: T0,
        });
        expect((await store.vectorRecords.scanVectorRecords(scope)).map((found) => found.id)).toEqual([
          record.id,
        ]);
        expect(await store.pendingApprovals({ tenant: 'acme' })).toEqual([]);
        await store.budgets.settle({ ledger: 'tenant:acme', key: 'k', amounts: { usd: 0.5 }, now: T0 });
        expect(await store.budgets.usage('tenant:acme')).toMatchObject({ usd: 0.5 });
        await store.runStreams.appendParts([{ runId: 'run_x', type: 'progress', data: {}, at: T0 }]);
        expect(await store.runStreams.partBounds('run_x')).toEqual({ first: 1, last: 1 });
      } finally {
        await store.close();
      }
    });

    it('keeps working while a newer process adds a column (a rolling upgrade)', async () => {
      const schema = nextSchema('rolling');
      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 1 });
      try {
        const [run] = await createRuns(store, 1, 'run_rolling');
        // Every statement below is prepared on the store's one connection before the change.
        await store.getRun(run!.runId);
        await store.readEvents(run!.runId);
        await store.pendingSignals(run!.runId);
        await database.query(`ALTER TABLE ${schema}.runs ADD COLUMN added_by_a_newer_baton TEXT`);
        await database.query(`ALTER TABLE ${schema}.events ADD COLUMN added_by_a_newer_baton TEXT`);
        await database.query(`ALTER TABLE ${schema}.signals ADD COLUMN added_by_a_newer_baton TEXT`);
        expect((await store.getRun(run!.runId))?.runId).toBe(run!.runId);
        expect(await store.readEvents(run!.runId)).toHaveLength(1);
        expect(await store.pendingSignals(run!.runId)).toEqual([]);
        const [claimed] = await store.claimRuns('worker-a', {
          limit: 1,
          leaseMs: 1000,
          now: T0,
          workflows: ['run_rolling'],
        });
        expect(claimed?.runId).toBe(run!.runId);
      } finally {
        await store.close();
      }
    });

    it('refuses a schema written by a newer Baton and leaves it untouched', async () => {
      const schema = nextSchema('newer');
      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 1 });
      await createRuns(store, 2, 'run_newer');
      await store.close();
      await database.query(`UPDATE ${schema}.baton_meta SET value = '999' WHERE key = 'schema_version'`);
      const before = await schemaSnapshot(schema);

      const opening = PostgresStore.open({ url: database.url, schema, poolSize: 1 });
      await expect(opening).rejects.toBeInstanceOf(StoreVersionError);
      await expect(opening).rejects.toThrow(/schema version 999, newer than this Baton supports/);
      await expect(opening).rejects.toThrow(`postgres://postgres@`);
      expect(await schemaSnapshot(schema)).toEqual(before);
      expect(await database.query(`SELECT run_id FROM ${schema}.runs ORDER BY run_id`)).toHaveLength(2);
    });

    it('says where it tried when the server is unreachable, never the password, after retrying', async () => {
      const logs: string[] = [];
      const opening = PostgresStore.open({
        url: 'postgres://baton:s3cret-pw@127.0.0.1:1/orders',
        connectTimeoutMs: 700,
        log: (message) => logs.push(message),
      });
      const error = await opening.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      const unavailableError = error as StoreUnavailableError;
      expect(unavailableError.message).toContain('postgres://baton@127.0.0.1:1/orders');
      expect(unavailableError.message).not.toContain('s3cret-pw');
      expect(unavailableError.message).toMatch(/tried [2-9]\d* times/);
      expect(unavailableError.disposition).toBe('retryable');
      expect(logs.join('\n')).toMatch(/not reachable yet .*retrying/);
      expect(logs.join('\n')).not.toContain('s3cret-pw');
    });

    it('names a database that does not exist, at once', async () => {
      const url = new URL(database.url);
      url.pathname = '/baton_no_such_database';
      await expect(PostgresStore.open({ url: url.toString() })).rejects.toMatchObject({
        code: 'STORE_NOT_FOUND',
        message: expect.stringContaining('baton_no_such_database: the database does not exist') as unknown,
      });
    });

    it('refuses a machine whose clock is off from the server, or only warns when told to', async () => {
      const schema = nextSchema('clock');
      const ahead = () => Date.now() + 60_000;
      await expect(PostgresStore.open({ url: database.url, schema, clock: ahead })).rejects.toMatchObject({
        code: 'CLOCK_SKEW',
        message: expect.stringMatching(
          /clock is \d+ ms ahead of the clock of the store at postgres:\/\//,
        ) as unknown,
      });
      const behind = () => Date.now() - 5000;
      await expect(
        PostgresStore.open({ url: database.url, schema, clock: behind, maxClockSkewMs: 1000 }),
      ).rejects.toMatchObject({
        code: 'CLOCK_SKEW',
        message: expect.stringContaining('behind') as unknown,
      });

      const logs: string[] = [];
      const warned = await PostgresStore.open({
        url: database.url,
        schema,
        clock: ahead,
        onClockSkew: 'warn',
        log: (m) => logs.push(m),
      });
      await warned.close();
      expect(logs.filter((message) => message.includes('ahead of the clock'))).toHaveLength(1);

      const quiet: string[] = [];
      const fine = await PostgresStore.open({ url: database.url, schema, log: (m) => quiet.push(m) });
      await fine.close();
      expect(quiet).toEqual([]);
    });

    it('opens from a postgres:// URL through openStore, and is what baton/postgres exports', async () => {
      const store = await openStore(database.url);
      try {
        expect(store).toBeInstanceOf(PostgresStore);
        expect(store.location).toMatch(/^postgres:\/\/postgres@[^/]+:\d+\/baton_test_[0-9a-f]+$/);
      } finally {
        await store.close();
      }
      // The package's `baton/postgres` export leads to this store.
      const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
        exports: Record<string, Record<string, string>>;
      };
      const source = Object.values(manifest.exports['./postgres']!).find((path) => path.endsWith('.ts'))!;
      const exported = (await import(new URL(`../../${source}`, import.meta.url).href)) as {
        PostgresStore: unknown;
      };
      expect(exported.PostgresStore).toBe(PostgresStore);
    });
  });

  describe("a step's write", () => {
    it('commits alone in one statement, and fenced out writes nothing and says why', async () => {
      const schema = nextSchema('step_write');
      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 2 });
      try {
        const [created] = await createRuns(store, 1, 'run_step');
        const [run] = await store.claimRuns('worker-a', { limit: 1, leaseMs: 60_000, now: T0 });
        const write = (owner: string, event: JournalEvent, runId = run!.runId) =>
          store.commit([{ runId, owner, events: [event] }], T0 + 1);
        const codes = async (outcomes: Promise<{ ok: boolean; error?: Error }[]>) =>
          (await outcomes).map((outcome) => (outcome.ok ? 'ok' : (outcome.error as BatonError).code));

        expect(await codes(write('worker-b', stepAfter(run!, 1)))).toEqual(['LEASE_LOST']);
        expect(await codes(write('worker-a', stepAfter(run!, 1, 3)))).toEqual(['SEQ_CONFLICT']);
        expect(await codes(write('worker-a', stepAfter(run!, 1), 'run_missing'))).toEqual(['RUN_NOT_FOUND']);
        expect(await store.readEvents(created!.runId)).toHaveLength(1);

        const step = stepAfter(run!, 1);
        expect(await codes(write('worker-a', step))).toEqual(['ok']);
        expect(await codes(write('worker-a', step))).toEqual(['SEQ_CONFLICT']);
        expect((await store.readEvents(run!.runId)).at(-1)).toEqual(step);
        expect(await store.getRun(run!.runId)).toMatchObject({
          status: 'running',
          leaseOwner: 'worker-a',
          lastSeq: 2,
          headHash: step.hash,
          updatedAt: T0 + 1,
        });
      } finally {
        await store.close();
      }
    });
  });

  describe('a transition', () => {
    it('reads no signal when it consumes none, whatever plan the connection keeps', async () => {
      await withStoreAndClient('transition', async ({ store, client, schema }) => {
        const [created] = await createRuns(store, 1, 'run_done');
        const [run] = await store.claimRuns('worker-a', { limit: 1, leaseMs: 60_000, now: T0 });
        await database.query(
          `INSERT INTO ${schema}.signals (signal_id, run_id, name, sent_by, sent_at)
           SELECT 'sig_' || i, 'run_other_' || i, 'go', 'user:alice', $1 FROM generate_series(1, 2000) i`,
          [T0],
        );
        await client.query('SET plan_cache_mode = force_generic_plan');
        await client.query(
          `PREPARE finish (text, text, int, int, text, bigint, text[], int[], text[], text[], text[], text[], text[],
             text[], text[], text, text, text) AS ${new PostgresStatements(`"${schema}"`).write('finished')}`,
        );
        const nodes = await executedPlan(
          client,
          `EXECUTE finish ('${run!.runId}', 'worker-a', 1, 2, 'h', ${T0}, '{}', '{2}',
             '{run.completed}', '{x}', '{a}', '{[]}', '{1}', '{h0}', '{h}', 'completed', '1', NULL)`,
        );
        expect(nodes.some((node) => node['Relation Name'] === 'runs' && node['Actual Loops'] > 0)).toBe(true);
        const signalReads = nodes.filter(
          (node) => node['Relation Name'] === 'signals' && node['Node Type'] !== 'ModifyTable',
        );
        expect(signalReads.length).toBeGreaterThan(0);
        for (const node of signalReads) expect(node['Actual Loops'], node['Node Type']).toBe(0);
        expect(created!.runId).toBe(run!.runId);
      });
    });
  });

  describe('a write that consumes a signal', () => {
    it('reads the run’s unconsumed signals through their index, even with a plan made while the table was small', async () => {
      await withStoreAndClient('consume', async ({ client, schema }) => {
        const signals = (from: number, to: number) =>
          database.query(
            `INSERT INTO ${schema}.signals (signal_id, run_id, name, sent_by, sent_at, consumed)
             SELECT 'sig_' || i, 'run_other_' || i, 'go', 'user:alice', $1, i % 2 = 0 FROM generate_series(${from}, ${to}) i`,
            [T0],
          );
        await signals(1, 500);
        await client.query('SET plan_cache_mode = force_generic_plan');
        await client.query(
          `PREPARE consume (text, text, int, int, text, bigint, text[], int[], text[], text[], text[], text[], text[],
             text[], text[]) AS ${new PostgresStatements(`"${schema}"`).write('none')}`,
        );
        const execute = `EXECUTE consume ('run_other_7', 'worker-a', 1, 2, 'h', ${T0}, '{sig_7}', '{2}',
          '{signal.received}', '{x}', '{a}', '{[]}', '{1}', '{h0}', '{h}')`;
        // The plan is made at the first execution, and kept.
        await client.query(`EXPLAIN ${execute}`);
        await signals(501, 5000);
        const reads = (await executedPlan(client, execute)).filter(
          (node) => node['Relation Name'] === 'signals' && node['Node Type'] !== 'ModifyTable',
        );
        expect(reads.length).toBeGreaterThan(0);
        for (const node of reads) expect(node['Node Type']).not.toBe('Seq Scan');
      });
    });
  });

  describe('stream parts', () => {
    it('append in one transaction sent at once: a failing batch writes none of its parts, and the connection serves the next', async () => {
      const schema = nextSchema('stream_parts');
      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 1 });
      try {
        const part = (runId: string, at: number) => ({ runId, type: 'progress', data: { at }, at });
        // An instant that is not a whole millisecond fails the INSERT, after the locks were taken.
        await expect(
          store.runStreams.appendParts([part('run_a', T0), part('run_b', T0 + 0.5)]),
        ).rejects.toThrow();
        expect(await store.runStreams.readParts('run_a', 0, 10)).toEqual([]);
        await store.runStreams.appendParts([part('run_a', T0), part('run_a', T0 + 1), part('run_b', T0 + 2)]);
        expect((await store.runStreams.readParts('run_a', 0, 10)).map((found) => found.id)).toEqual([1, 2]);
        expect((await store.runStreams.readParts('run_b', 0, 10)).map((found) => found.id)).toEqual([1]);
      } finally {
        await store.close();
      }
    });
  });

  describe('stream parts and the journal', () => {
    // A journal commit of a run in flight holds its row (the fenced update); parts written meanwhile
    // follow it. Read without waiting, a part numbered after seq 1 could commit after seq 2 did, and
    // a live reader already past seq 2 never saw it (docs/decisions/0045).
    const part = (runId: string, at: number) => ({ runId, type: 'progress', data: { at }, at });
    const stored = async (schema: string, runId: string) =>
      (
        await database.query<{ id: number; after_seq: number }>(
          `SELECT id, after_seq FROM ${schema}.run_stream_parts WHERE run_id = $1 ORDER BY id`,
          [runId],
        )
      ).map((row) => [Number(row.id), Number(row.after_seq)]);

    it('wait for a journal commit of their run in flight, and follow it; a batch writes the other runs meanwhile', async () => {
      await withStoreAndClient('stream_order', async ({ store, client, schema }) => {
        for (const runId of ['run_held', 'run_free']) {
          const run = newRun(runId);
          await store.createRun(run, startedEvent(run));
        }
        for (const batch of [[part('run_held', T0)], [part('run_held', T0 + 1), part('run_free', T0 + 1)]]) {
          await client.query('BEGIN');
          await client.query(`UPDATE ${schema}.runs SET last_seq = last_seq + 1 WHERE run_id = 'run_held'`);
          let written = false;
          const appending = store.runStreams.appendParts(batch).then(() => (written = true));
          await new Promise((resolve) => setTimeout(resolve, 150));
          expect(written).toBe(false);
          const heldBefore = await stored(schema, 'run_held');
          // The other run of the batch is written while the held one waits.
          if (batch.length > 1)
            await until(async () => (await stored(schema, 'run_free')).length === 1, 'run_free written');
          await client.query('COMMIT');
          await appending;
          const held = await stored(schema, 'run_held');
          expect(held.length).toBe(heldBefore.length + 1);
          expect(held.at(-1)).toEqual([held.length, 1 + held.length]);
        }
        expect(await stored(schema, 'run_free')).toEqual([[1, 1]]);
      });
    });
  });

  describe('a batch of stream parts', () => {
    it("reads each run's head once, through its index, even with plans made while the table was small", async () => {
      await withStoreAndClient('stream_heads', async ({ client, schema }) => {
        const parts = (from: number, to: number, runs: number) =>
          database.query(
            `INSERT INTO ${schema}.run_stream_parts (run_id, id, after_seq, type, data, at)
             SELECT 'run_' || (i % ${runs}), i, 0, 'progress', '{}', i FROM generate_series(${from}, ${to}) i`,
          );
        await parts(1, 5, 2);
        const { appendOne, appendMany } = streamAppendStatements(`"${schema}"`);
        await client.query('SET plan_cache_mode = force_generic_plan');
        await client.query(`PREPARE one (text, text[], int[], text[], bigint[]) AS ${appendOne}`);
        await client.query(
          `PREPARE many (text[], int[], text[], int[], text[], bigint[], text[]) AS ${appendMany}`,
        );
        const ten = (value: string) => `'{${Array.from({ length: 10 }, () => value).join(',')}}'`;
        const one = `EXECUTE one ('run_0', ${ten('progress')}, ${ten('1')}, ${ten('"{}"')}, ${ten(String(T0))})`;
        const many = `EXECUTE many ('{${Array.from({ length: 10 }, (_, index) => `run_${index % 2}`).join(',')}}',
          '{1,1,2,2,3,3,4,4,5,5}', ${ten('progress')}, ${ten('1')}, ${ten('"{}"')}, ${ten(String(T0))}, '{run_0,run_1}')`;
        // The plans are made at the first execution, and kept.
        await client.query(`EXPLAIN ${one}`);
        await client.query(`EXPLAIN ${many}`);
        await parts(1000, 20_000, 100);
        for (const [execute, runs] of [
          [one, 1],
          [many, 2],
        ] as const) {
          const reads = (await executedPlan(client, execute)).filter(
            (node) => node['Relation Name'] === 'run_stream_parts' && node['Node Type'] !== 'ModifyTable',
          );
          expect(reads.length).toBeGreaterThan(0);
          for (const node of reads) {
            expect(node['Node Type']).not.toBe('Seq Scan');
            // Once per run, not once per part (each read after the parts inserted before it).
            expect(node['Actual Loops']).toBe(runs);
          }
        }
      });
    });
  });

  describe('claims over a backlog', () => {
    const BACKLOG = 3000;
    const NOW = T0 + 10 ** 6;

    /**
     * A schema holding a backlog of pending runs (some paused, some of another workflow, priorities
     * and fair-queue tags mixed) beside runs due in each other way a run is claimable.
     */
    async function backlog(): Promise<{ store: PostgresStore; schema: string }> {
      const schema = nextSchema('backlog');
      const store = await PostgresStore.open({ url: database.url, schema, poolSize: 2 });
      await database.query(
        `INSERT INTO ${schema}.runs (run_id, workflow, tenant, principal, status, input, created_at, updated_at,
           head_hash, priority, fair_key, paused)
         SELECT 'run_p' || lpad(i::text, 5, '0'), CASE WHEN i % 7 = 0 THEN 'other' ELSE 'orders' END, 'acme', 'user:alice',
           'pending', '{}', $1::bigint + (i * 37) % 101, $1, 'h', (i % 3) - 1, (i * 13) % 50, i % 11 = 0
         FROM generate_series(1, ${BACKLOG}) i`,
        [T0],
      );
      // As many runs parked on a signal: waiting, with no timer and no deadline.
      await database.query(
        `INSERT INTO ${schema}.runs (run_id, workflow, tenant, principal, status, input, created_at, updated_at,
           head_hash, fair_key)
         SELECT 'run_w' || lpad(i::text, 5, '0'), 'orders', 'acme', 'user:alice', 'waiting', '{}', $1, $1, 'h', i
         FROM generate_series(1, ${BACKLOG}) i`,
        [T0],
      );
      // Due in the other ways: a timer passed, a deadline passed, a lease expired; and one not due.
      await database.query(
        `INSERT INTO ${schema}.runs (run_id, workflow, tenant, principal, status, input, created_at, updated_at,
           head_hash, priority, fair_key, wake_at, deadline_at, lease_owner, lease_expires_at)
         VALUES ('run_timer', 'orders', 'acme', 'user:alice', 'waiting', '{}', $1, $1, 'h', 1, 3, $2, NULL, NULL, NULL),
                ('run_deadline', 'orders', 'acme', 'user:alice', 'waiting', '{}', $1, $1, 'h', 1, 0, NULL, $2, NULL, NULL),
                ('run_expired', 'orders', 'acme', 'user:alice', 'running', '{}', $1, $1, 'h', 1, 7, NULL, NULL, 'worker-x', $2),
                ('run_overdue', 'orders', 'acme', 'user:alice', 'running', '{}', $1, $1, 'h', 0, 2, NULL, $2, NULL, NULL),
                ('run_later', 'orders', 'acme', 'user:alice', 'waiting', '{}', $1, $1, 'h', 1, 0, $3, $3, NULL, NULL),
                ('run_held', 'orders', 'acme', 'user:alice', 'running', '{}', $1, $1, 'h', 1, 0, NULL, NULL, 'worker-y', $3)`,
        [T0, NOW - 1, NOW + 1],
      );
      await database.query(`ANALYZE ${schema}.runs`);
      return { store, schema };
    }

    it('takes runs in claim order from every claimable state', async () => {
      const { store, schema } = await backlog();
      try {
        // The order the claim keeps, written as one condition over all runs.
        const expected = await database.query<{ run_id: string }>(
          `SELECT run_id FROM ${schema}.runs
           WHERE (status = 'pending'
               OR (status = 'waiting' AND wake_at <= $1)
               OR (status IN ('waiting', 'running') AND deadline_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1))
               OR (status = 'running' AND lease_expires_at <= $1))
             AND NOT paused AND workflow = 'orders'
           ORDER BY priority DESC, fair_key, created_at, run_id`,
          [NOW],
        );
        expect(expected.length).toBeGreaterThan(2000);
        const taken: string[] = [];
        for (;;) {
          const runs = await store.claimRuns('worker-a', {
            limit: 7,
            leaseMs: 60_000,
            now: NOW,
            workflows: ['orders'],
          });
          if (runs.length === 0) break;
          taken.push(...runs.map((run) => run.runId));
        }
        expect(taken).toEqual(expected.map((row) => row.run_id));
        expect(taken).toEqual(
          expect.arrayContaining(['run_timer', 'run_deadline', 'run_expired', 'run_overdue']),
        );
        expect(taken).not.toContain('run_later');
        expect(taken).not.toContain('run_held');
      } finally {
        await store.close();
      }
    });

    it('reads the runs it takes, not the backlog', async () => {
      const { store, schema } = await backlog();
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const nodes = await executedPlan(client, {
          text: new PostgresStatements(`"${schema}"`).claimRuns,
          values: ['worker-a', NOW + 60_000, NOW, 4, ['orders']],
        });
        expect(nodes.filter((node) => node['Index Name'] === 'runs_claim').length).toBe(1);
        // No node of the plan handles more than a few rows: the backlog is neither scanned nor sorted.
        for (const node of nodes) expect(node['Actual Rows'], node['Node Type']).toBeLessThanOrEqual(8);
      } finally {
        await client.end();
        await store.close();
      }
    });
  });

  describe('many processes on one database', () => {
    let schema: string;
    let stores: PostgresStore[];
    beforeAll(async () => {
      schema = nextSchema('shared');
      stores = [];
      for (let index = 0; index < 4; index++)
        stores.push(await PostgresStore.open({ url: database.url, schema, poolSize: 3 }));
    });
    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close()));
    });

    it('leases each run to exactly one of many claimers (FOR UPDATE SKIP LOCKED)', async () => {
      const created = await createRuns(stores[0]!, 120, 'run_claim');
      const claimed: RunRecord[] = [];
      await Promise.all(
        stores.flatMap((store, storeIndex) =>
          [0, 1, 2].map(async (lane) => {
            for (;;) {
              const runs = await store.claimRuns(`worker-${storeIndex}-${lane}`, {
                limit: 4,
                leaseMs: 60_000,
                now: T0 + 1000,
                workflows: ['run_claim'],
              });
              if (runs.length === 0) return;
              claimed.push(...runs);
            }
          }),
        ),
      );
      expect(claimed.map((run) => run.runId).sort()).toEqual(created.map((run) => run.runId).sort());
      for (const run of claimed)
        expect((await stores[1]!.getRun(run.runId))?.leaseOwner).toBe(run.leaseOwner);
      expect(new Set(claimed.map((run) => run.leaseOwner)).size).toBeGreaterThan(1);
    });

    it('never lets pool holders on many connections exceed the pool’s slots', async () => {
      const slots = 3;
      let holding = 0;
      let most = 0;
      let grants = 0;
      await Promise.all(
        stores.flatMap((store, storeIndex) =>
          [0, 1, 2].map(async (lane) => {
            for (let attempt = 0; attempt < 15; attempt++) {
              const result = await store.pools.acquire({
                pool: 'shared-api',
                holder: `holder-${storeIndex}-${lane}-${attempt}`,
                tenant: 'acme',
                priority: 0,
                limits: { concurrency: slots, windowMs: 1000 },
                tokens: 0,
                now: Date.now(),
                leaseMs: 60_000,
              });
              if (!result.granted) continue;
              grants++;
              most = Math.max(most, ++holding);
              await new Promise((resolve) => setImmediate(resolve));
              // Stop counting before releasing: the count never exceeds what the store holds.
              holding--;
              await store.pools.release(result.leaseId, { now: Date.now() });
            }
          }),
        ),
      );
      expect(most).toBeLessThanOrEqual(slots);
      expect(grants).toBeGreaterThan(slots);
      const [usage] = (await stores[0]!.pools.usage(Date.now())).filter((pool) => pool.pool === 'shared-api');
      expect(usage).toMatchObject({ inFlight: 0, granted: grants });
    });

    it('wakes subscribers in other processes when a run becomes runnable', async () => {
      const [listener, other] = [stores[0]!, stores[1]!];
      let wakes = 0;
      let wake: () => void = () => {};
      const unsubscribe = await listener.subscribe(() => {
        wakes++;
        wake();
      });
      const next = () => new Promise<void>((resolve) => (wake = resolve));
      try {
        let woken = next();
        const [run] = await createRuns(other, 1, 'run_wake');
        await woken;

        // Parked by its worker, the run is woken by a signal from another process.
        const [leased] = await other.claimRuns('worker-x', {
          limit: 1,
          leaseMs: 60_000,
          now: T0,
          workflows: ['run_wake'],
        });
        expect(leased?.runId).toBe(run!.runId);
        await other.commit(
          [
            {
              runId: run!.runId,
              owner: 'worker-x',
              events: [],
              transition: { status: 'waiting', seenWakeGen: leased!.wakeGen },
            },
          ],
          T0,
        );
        expect((await other.getRun(run!.runId))?.status).toBe('waiting');
        const before = wakes;
        woken = next();
        await other.sendSignal({
          signalId: 'sig-wake',
          runId: run!.runId,
          name: 'go',
          sentBy: 'user:bob',
          sentAt: T0,
        });
        await woken;
        expect(wakes).toBeGreaterThan(before);
        expect((await other.getRun(run!.runId))?.status).toBe('pending');
      } finally {
        await unsubscribe();
      }
    });

    it('listens again after its LISTEN connection is cut, waking subscribers when it is back', async () => {
      const listener = await PostgresStore.open({
        url: database.url,
        schema,
        poolSize: 1,
        applicationName: 'baton_test_listen',
        log: () => {},
      });
      let wake: () => void = () => {};
      const next = () => new Promise<void>((resolve) => (wake = resolve));
      const unsubscribe = await listener.subscribe(() => wake());
      try {
        let woken = next();
        const [backend] = await database.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = 'baton_test_listen' AND query LIKE 'LISTEN%'`,
        );
        await database.query('SELECT pg_terminate_backend($1)', [backend!.pid]);
        await woken; // back, and telling subscribers to look: what was sent meanwhile is lost

        woken = next();
        await createRuns(stores[3]!, 1, 'run_relisten');
        await woken;
      } finally {
        await unsubscribe();
        await listener.close();
      }
    });

    it('fails a write that breaks a constraint alone, with the rest of the batch committed', async () => {
      const store = stores[2]!;
      await createRuns(store, 3, 'run_batch');
      const [runA, runB, runC] = (await store.claimRuns('worker-b', {
        limit: 3,
        leaseMs: 60_000,
        now: T0,
        workflows: ['run_batch'],
      })) as [RunRecord, RunRecord, RunRecord];
      // Two events with one seq: the fence passes (the journal ends where it should), the key does not.
      const duplicate = stepAfter(runB, 1);
      const outcomes = await store.commit(
        [
          { runId: runA.runId, owner: 'worker-b', events: [stepAfter(runA, 1)] },
          {
            runId: runB.runId,
            owner: 'worker-b',
            events: [duplicate, { ...duplicate, hash: 'f'.repeat(64) }],
          },
          { runId: runC.runId, owner: 'worker-b', events: [stepAfter(runC, 1)] },
        ],
        T0,
      );
      expect(outcomes[0]).toEqual({ ok: true });
      expect(outcomes[1]?.ok).toBe(false);
      expect(((outcomes[1] as { error: Error }).error as Error & { code?: string }).code).toBe('23505');
      expect(outcomes[2]).toEqual({ ok: true });
      expect((await store.getRun(runA.runId))?.lastSeq).toBe(2);
      expect((await store.getRun(runB.runId))?.lastSeq).toBe(1);
      expect(await store.readEvents(runB.runId)).toHaveLength(1);
      expect((await store.getRun(runC.runId))?.lastSeq).toBe(2);
    });

    it('surfaces a connection lost mid-transaction as a retryable error, then works on a new connection', async () => {
      const store = await PostgresStore.open({
        url: database.url,
        schema,
        poolSize: 2,
        applicationName: 'baton_test_lost',
      });
      const holder = new pg.Client({ connectionString: database.url });
      holder.on('error', () => {});
      await holder.connect();
      try {
        await createRuns(store, 1, 'run_lost');
        const [leased] = await store.claimRuns('worker-l', {
          limit: 1,
          leaseMs: 60_000,
          now: T0,
          workflows: ['run_lost'],
        });
        // Hold the run's row so the commit waits inside its transaction, then cut its connection.
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM ${schema}.runs WHERE run_id = $1 FOR UPDATE`, [leased!.runId]);
        const committing = store.commit(
          [{ runId: leased!.runId, owner: 'worker-l', events: [stepAfter(leased!, 1)] }],
          T0,
        );
        committing.catch(() => {});
        const [backend] = await until(async () => {
          const rows = await database.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE application_name = 'baton_test_lost' AND wait_event_type = 'Lock'`,
          );
          return rows.length > 0 ? rows : undefined;
        }, 'the commit to wait on the row lock');
        await database.query('SELECT pg_terminate_backend($1)', [backend!.pid]);
        const error = await committing.then(
          () => undefined,
          (caught: unknown) => caught,
        );
        await holder.query('ROLLBACK');

        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as BatonError).disposition).toBe('retryable');
        expect((error as Error).message).toContain(store.location);
        expect((await store.getRun(leased!.runId))?.lastSeq).toBe(1);
        // The pool drops the dead connection; the same write now commits.
        expect(
          await store.commit(
            [{ runId: leased!.runId, owner: 'worker-l', events: [stepAfter(leased!, 1)] }],
            T0,
          ),
        ).toEqual([{ ok: true }]);
      } finally {
        await holder.end();
        await store.close();
      }
    });
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Every node of an EXPLAIN (FORMAT JSON) plan. */
function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

/**
 * Runs a statement under EXPLAIN ANALYZE in a transaction rolled back after it (so it changes
 * nothing), and gives every node of the plan it ran with.
 */
async function executedPlan(
  client: pg.Client,
  query: string | { text: string; values: unknown[] },
): Promise<PlanNode[]> {
  const explain = (text: string) => `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`;
  await client.query('BEGIN');
  try {
    const explained = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      typeof query === 'string' ? explain(query) : { text: explain(query.text), values: query.values },
    );
    return planNodes(explained.rows[0]!['QUERY PLAN'][0]!.Plan);
  } finally {
    await client.query('ROLLBACK');
  }
}
