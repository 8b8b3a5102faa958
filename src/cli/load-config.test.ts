import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absoluteStoreUrl, displayStore, findConfigFile, loadConfig } from './load-config.ts';
import { validateConfig } from './validate-config.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-config-'));
  mkdirSync(join(root, 'with-store', 'nested'), { recursive: true });
  mkdirSync(join(root, 'without-store'), { recursive: true });
  writeFileSync(
    join(root, 'with-store', 'baton.config.mjs'),
    `export default { store: 'sqlite:./data/app.db', workflows: [] };\n`,
  );
  writeFileSync(join(root, 'without-store', 'baton.config.mjs'), `export default { workflows: [] };\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('finding the config', () => {
  it('looks in the directory and then upward', () => {
    expect(findConfigFile(join(root, 'with-store', 'nested'))).toBe(
      join(root, 'with-store', 'baton.config.mjs'),
    );
    expect(findConfigFile(root)).toBeUndefined();
  });
});

describe('store precedence: --store, config, BATON_STORE, DATABASE_URL (postgres), sqlite:./baton.db', () => {
  const env = { BATON_STORE: 'sqlite:./env.db', DATABASE_URL: 'postgres://u:secret@db/app' };

  it('--store wins over everything', async () => {
    const loaded = await loadConfig({
      cwd: join(root, 'with-store', 'nested'),
      env,
      storeFlag: 'sqlite:flag.db',
      required: false,
    });
    expect(loaded).toMatchObject({
      store: `sqlite:${join(root, 'with-store', 'nested', 'flag.db')}`,
      storeSource: 'flag',
    });
  });

  it("then the config's store, relative to the config file", async () => {
    const loaded = await loadConfig({ cwd: join(root, 'with-store', 'nested'), env, required: false });
    expect(loaded).toMatchObject({
      store: `sqlite:${join(root, 'with-store', 'data', 'app.db')}`,
      storeSource: 'config',
    });
  });

  it('then BATON_STORE, then a postgres DATABASE_URL, then baton.db beside the config', async () => {
    const cwd = join(root, 'without-store');
    expect(await loadConfig({ cwd, env, required: false })).toMatchObject({
      store: `sqlite:${join(cwd, 'env.db')}`,
      storeSource: 'BATON_STORE',
    });
    expect(await loadConfig({ cwd, env: { DATABASE_URL: env.DATABASE_URL }, required: false })).toMatchObject(
      {
        store: env.DATABASE_URL,
        storeSource: 'DATABASE_URL',
      },
    );
    expect(
      await loadConfig({ cwd, env: { DATABASE_URL: 'mysql://elsewhere/db' }, required: false }),
    ).toMatchObject({
      store: `sqlite:${join(cwd, 'baton.db')}`,
      storeSource: 'default',
    });
  });

  it('without a config: an error when required, the working directory otherwise', async () => {
    await expect(loadConfig({ cwd: root, env: {}, required: true })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    expect(await loadConfig({ cwd: root, env: {}, required: false })).toMatchObject({
      path: undefined,
      store: `sqlite:${join(root, 'baton.db')}`,
    });
    await expect(
      loadConfig({ cwd: root, env: {}, configPath: 'missing.ts', required: false }),
    ).rejects.toThrow('does not exist');
  });

  it('leaves absolute paths, memory and URLs alone, and masks passwords for display', () => {
    expect(absoluteStoreUrl('sqlite::memory:', '/x')).toBe('sqlite::memory:');
    expect(absoluteStoreUrl('sqlite:/abs/a.db', '/x')).toBe('sqlite:/abs/a.db');
    expect(absoluteStoreUrl('./a.db', '/x')).toBe('/x/a.db');
    expect(absoluteStoreUrl('postgres://h/db', '/x')).toBe('postgres://h/db');
    expect(displayStore('postgres://u:secret@db/app')).toBe('postgres://u:***@db/app');
  });
});

describe('validating the config', () => {
  const fn = async (): Promise<null> => null;
  it('names the first bad field', () => {
    expect(() => validateConfig({ workflows: 'greet' }, 'baton.config.ts')).toThrow(
      'baton.config.ts is invalid: workflows:',
    );
    expect(() =>
      validateConfig({ workflows: [{ kind: 'workflow', name: 'a', fn }, { name: 'b' }] }, 'c.ts'),
    ).toThrow("c.ts is invalid: workflows[1].kind: expected a workflow made with workflow('name', fn)");
    expect(() => validateConfig({ workflows: [], worker: { concurrency: 0 } }, 'c.ts')).toThrow(
      'c.ts is invalid: worker.concurrency:',
    );
    expect(() => validateConfig({ workflows: [], store: 42 }, 'c.ts')).toThrow(
      'c.ts is invalid: store: expected a store URL',
    );
  });
  it('refuses two workflows of one name, and keeps keys it does not know', () => {
    const twice = {
      workflows: [
        { kind: 'workflow', name: 'a', fn },
        { kind: 'workflow', name: 'a', fn },
      ],
    };
    expect(() => validateConfig(twice, 'c.ts')).toThrow("a second workflow is named 'a'");
    expect(() => validateConfig({ workflows: [], agents: [{ name: 'billing' }] }, 'c.ts')).not.toThrow();
  });
});
