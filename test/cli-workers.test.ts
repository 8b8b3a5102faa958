import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Baton } from '../src/baton.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { batonSource as source, cliProject } from './support/cli-project.ts';

const CONFIG = `
import { defineConfig, workflow } from ${JSON.stringify(source)};

const waiter = workflow('waiter', async (ctx) => ctx.waitFor('go'));

export default defineConfig({ store: 'sqlite:./cli.db', workflows: [waiter] });
`;

const project = cliProject('baton-cli-workers-', { 'baton.config.ts': CONFIG });
const { cli } = project;

describe('baton workers, and a cancel no worker will carry out', () => {
  it('says no worker is running, lists one that beats, and a cancel says when none will end the run', async () => {
    const started = await cli(['start', 'waiter', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };

    // `start` ran a worker until the run parked; it left the list when it stopped.
    const none = await cli(['workers']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('No worker is running. Start one: baton worker (or baton server --worker).\n');

    const cancelled = await cli(['cancel', runId, '--as', 'user:bob', '--reason', 'not needed']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain('no worker is running: the run ends when one starts (baton worker)');

    const store = SqliteStore.open({ path: join(project.dir, 'cli.db') });
    const baton = await Baton.open({ store, workflows: [], worker: { id: 'worker-in-test' } });
    try {
      const listed = await cli(['workers', '--json']);
      const { workers } = JSON.parse(listed.stdout) as { workers: { workerId: string; alive: boolean }[] };
      expect(workers).toMatchObject([{ workerId: 'worker-in-test', alive: true }]);
      const table = await cli(['workers']);
      expect(table.stdout).toMatch(/worker-in-test\s+\S+\s+\d+\s+alive/);
    } finally {
      await baton.close();
      await store.close();
    }
    expect((await cli(['workers'])).stdout).toContain('No worker is running');
  });
});
