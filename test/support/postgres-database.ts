import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

/**
 * The PostgreSQL server tests use: BATON_TEST_PG_URL, else the local server of these machines.
 * Tests create databases of their own on it (`baton_test_<random>`) and drop them afterwards.
 */
export const PG_TEST_URL = process.env.BATON_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * PostgreSQL is required (its tests fail rather than skip when it is missing) in CI, and whenever
 * BATON_TEST_PG_URL names a server explicitly.
 */
export const PG_REQUIRED =
  !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase()) ||
  Boolean(process.env.BATON_TEST_PG_URL);

/** Why the test server cannot be used, or undefined when it answers. */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${redact(PG_TEST_URL)} is not reachable: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `describe` for tests that need PostgreSQL: runs them when the server answers; otherwise fails
 * one test naming the problem when PostgreSQL is required, and skips them when it is not.
 */
export function describePostgres(
  name: string,
  unavailable: string | undefined,
  body: () => void | Promise<void>,
): void {
  if (unavailable === undefined) {
    describe(name, body);
  } else if (PG_REQUIRED) {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(
          `${unavailable}. Start it (pg_ctlcluster --skip-systemctl-redirect <version> main start) or set BATON_TEST_PG_URL.`,
        );
      });
    });
  } else {
    describe.skip(
      `${name} (skipped: ${unavailable}; set CI or BATON_TEST_PG_URL to make this a failure)`,
      body,
    );
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL as the test server's user on this database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]>;
  drop(): Promise<void>;
}

/** Creates a fresh, empty database `baton_test_<random>` on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `baton_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    name,
    url,
    async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      return (await pool.query<R>(text, values)).rows;
    },
    async drop() {
      await pool.end();
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A fresh database for the tests of the enclosing describe: created by {@link createTestDatabase}
 * in a `beforeAll` (so before the hooks registered after this call) and dropped in an `afterAll`
 * (after theirs). Use it from hooks and tests.
 */
export function databaseForSuite(): TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const current = (): TestDatabase => {
    if (!database) throw new Error('The test database is created in beforeAll; use it from a hook or test.');
    return database;
  };
  return {
    get name() {
      return current().name;
    },
    get url() {
      return current().url;
    },
    query: (text, values) => current().query(text, values),
    drop: () => current().drop(),
  };
}

/** The test server's URL with another database. */
export function databaseUrl(database: string): string {
  const url = new URL(PG_TEST_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_TEST_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
