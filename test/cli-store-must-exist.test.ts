import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batonSource as source, cliProject } from './support/cli-project.ts';
import {
  PG_TEST_URL,
  databaseForSuite,
  describePostgres,
  postgresUnavailable,
} from './support/postgres-database.ts';

// A mistyped --store must never create an empty database that then answers "No runs.": every
// command that reads (or acts on existing runs) says the store does not exist and exits 1.

const CONFIG = `
import { defineConfig, workflow } from ${JSON.stringify(source)};
export const greet = workflow('greet', async (ctx) => ctx.step('hello', () => 'hello'));
export default defineConfig({ store: 'sqlite:./real.db', workflows: [greet] });
`;

const project = cliProject('baton-cli-store-', { 'baton.config.ts': CONFIG });
const { cli } = project;

/** Commands that must not create a store, with the arguments they need. */
const READERS: string[][] = [
  ['runs'],
  ['show', 'run_x'],
  ['history', 'run_x'],
  ['explain', 'run_x'],
  ['verify', 'run_x'],
  ['replay', 'run_x'],
  ['approvals'],
  ['audit'],
  ['export', 'run_x', '--format', 'json'],
  ['pools'],
  ['signal', 'run_x', 'go'],
  ['cancel', 'run_x'],
  ['pause', 'run_x'],
  ['resume', 'run_x'],
  ['approve', 'run_x', 'approval_x'],
  ['deny', 'run_x', 'approval_x'],
  ['fork', 'run_x', '--at', '1'],
  ['in-doubt'],
  ['resolve', 'run_x', '1', '--retry', '--as', 'user:ops'],
];

describe('a SQLite store that does not exist', () => {
  it('is never created by a read command, which names it and exits 1', async () => {
    for (const args of READERS) {
      const result = await cli([...args, '--store', 'sqlite:./typo.db']);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(
        `There is no Baton store at sqlite:${join(project.dir, 'typo.db')}`,
      );
      expect(result.stderr).toContain('the file does not exist');
      expect(result.stderr).toContain('came from --store');
      expect(existsSync(join(project.dir, 'typo.db')), args.join(' ')).toBe(false);
    }
    expect(readdirSync(project.dir).filter((name) => name.includes('typo'))).toEqual([]);
  });

  it('--json reports STORE_NOT_FOUND; the config’s store is named as the source', async () => {
    const typo = await cli(['runs', '--json', '--store', 'sqlite:./typo.db']);
    expect(JSON.parse(typo.stderr)).toMatchObject({ error: { code: 'STORE_NOT_FOUND' } });
    const fromConfig = await cli(['runs']);
    expect(fromConfig.code).toBe(1);
    expect(fromConfig.stderr).toContain("came from the config's store");
    expect(existsSync(join(project.dir, 'real.db'))).toBe(false);
  });

  it('start and migrate create it; then read commands read it', async () => {
    const started = await cli(['start', 'greet', '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(existsSync(join(project.dir, 'real.db'))).toBe(true);
    const runs = await cli(['runs', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect((JSON.parse(runs.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    const migrated = await cli(['migrate', '--store', 'sqlite:./made.db']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect((await cli(['runs', '--store', 'sqlite:./made.db'])).stdout).toContain('No runs.');
  });
});

const unavailable = await postgresUnavailable();
describePostgres('a PostgreSQL store that does not exist', unavailable, () => {
  const database = databaseForSuite();

  it('a missing database is named and never created', async () => {
    const url = new URL(PG_TEST_URL);
    url.pathname = '/baton_typo_database';
    for (const args of [['runs'], ['show', 'run_x'], ['approvals']]) {
      const result = await cli([...args, '--store', url.toString()]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain('the database does not exist');
      expect(result.stderr).toContain('came from --store');
    }
  });

  it('a database without Baton’s schema is left untouched by read commands; migrate creates it', async () => {
    const result = await cli(['runs', '--store', database.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the database has no Baton schema 'baton'");
    const schemas = await database.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'baton'`);
    expect(schemas).toHaveLength(0);
    expect((await cli(['migrate', '--store', database.url])).code).toBe(0);
    const runs = await cli(['runs', '--store', database.url]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain('No runs.');
  });
});
