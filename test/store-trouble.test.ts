/**
 * Store trouble gets its own code and a message that says what to do: a read-only store
 * (STORE_READ_ONLY; read commands still work on it, as on an auditor's copy) and a full disk
 * (STORE_FULL, retryable). The disk and the mount are real: a small tmpfs and a read-only bind
 * mount, each in a private mount namespace (`unshare -m`, needs root; skipped otherwise).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../src/engine/workflow.ts';
import { BatonError } from '../src/errors.ts';
import { PostgresStore } from '../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { harness } from './support/harness.ts';
import { createTestDatabase, describePostgres, postgresUnavailable } from './support/postgres-database.ts';

const NODE = [process.execPath, '--conditions=baton-source', '--disable-warning=ExperimentalWarning'];
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const FULL_DISK_CHILD = fileURLToPath(new URL('./fixtures/full-disk-child.ts', import.meta.url));

const mountable = spawnSync('unshare', ['-m', 'true']).status === 0;
const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** Runs `command` in a private mount namespace after `setup` (shell), returning its exit code and output. */
function inNamespace(
  setup: string,
  command: string[],
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', `${setup} && exec ${command.map(quote).join(' ')}`],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const waits = defineWorkflow('waits', async (ctx) => ctx.waitFor<string>('go'));

describe('store trouble', () => {
  it('a store opened read-only refuses writes with STORE_READ_ONLY, not STORE_CORRUPT', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baton-ro-'));
    try {
      const h = await harness({
        workflows: [waits],
        store: SqliteStore.open({ path: join(directory, 'baton.db') }),
      });
      const run = await h.baton.start(waits, null);
      await h.settle(run.runId, 'waiting');
      await h.close();
      await h.store.close();
      const store = SqliteStore.open({ path: join(directory, 'baton.db'), readOnly: true });
      try {
        expect((await store.getRun(run.runId))?.status).toBe('waiting');
        const error = await store.requestCancel(run.runId, 'audit', Date.now()).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(BatonError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ code: 'STORE_READ_ONLY' });
        expect((error as Error).message).toContain(
          'Read commands (show, runs, history, explain, verify, export, audit) work on it',
        );
      } finally {
        await store.close();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  describe.skipIf(!mountable)('on real mounts (unshare -m)', () => {
    it('read commands work on a store in a read-only directory; writes say STORE_READ_ONLY', async () => {
      const directory = await mkdtemp(join(tmpdir(), 'baton-ro-mount-'));
      try {
        const path = join(directory, 'baton.db');
        const h = await harness({ workflows: [waits], store: SqliteStore.open({ path }) });
        const run = await h.baton.start(waits, null, { as: 'user:alice' });
        await h.settle(run.runId, 'waiting');
        await h.close();
        await h.store.close();
        const readOnly = `mount --bind ${quote(directory)} ${quote(directory)} && mount -o remount,bind,ro ${quote(directory)}`;
        const cli = (...args: string[]) =>
          inNamespace(readOnly, [...NODE, CLI, ...args, '--store', `sqlite:${path}`]);

        const show = cli('show', run.runId);
        expect(show.code, show.stderr).toBe(0);
        expect(show.stdout).toContain('user:alice');
        const verify = cli('verify', run.runId, '--allow-unsigned');
        expect(verify.code, verify.stderr).toBe(0);
        expect(verify.stdout).toContain('chain intact');

        const signal = cli('signal', run.runId, 'go');
        expect(signal.code).toBe(1);
        expect(signal.stderr).toContain(`The store at ${path} is read-only`);
        expect(signal.stderr).toContain('give Baton write access to the store');
        expect(signal.stderr).not.toContain('cannot be opened');
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });

    it('a full disk is STORE_FULL (retryable), and what was committed still reads', () => {
      const mount = '/tmp/baton-full-disk';
      const result = inNamespace(`mkdir -p ${mount} && mount -t tmpfs -o size=1m tmpfs ${mount}`, [
        ...NODE,
        FULL_DISK_CHILD,
        mount,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as {
        started: number;
        failure?: { code: string; message: string; disposition: string };
        readable: number;
      };
      expect(report.failure).toMatchObject({ code: 'STORE_FULL', disposition: 'retryable' });
      expect(report.failure!.message).toContain('is out of space');
      expect(report.failure!.message).toContain('Free disk space');
      expect(report.started).toBeGreaterThan(0);
      expect(report.readable).toBe(report.started);
    });
  });
});

const unavailable = await postgresUnavailable();
describePostgres('store trouble on PostgreSQL', unavailable, () => {
  it('a read-only database (a hot standby, default_transaction_read_only) is STORE_READ_ONLY', async () => {
    const database = await createTestDatabase();
    try {
      const store = await PostgresStore.open({ url: database.url, poolSize: 2 });
      await store.close();
      await database.query(`ALTER DATABASE ${database.name} SET default_transaction_read_only = on`);
      const error = await PostgresStore.open({ url: database.url, poolSize: 2 }).then(
        async (reopened) => {
          const h = await harness({ workflows: [waits], store: reopened, worker: false });
          try {
            return await h.baton.start(waits, null).then(
              () => undefined,
              (caught: unknown) => caught,
            );
          } finally {
            await h.close();
            await reopened.close();
          }
        },
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'STORE_READ_ONLY' });
      expect((error as Error).message).toContain('is read-only');
    } finally {
      await database.query(`ALTER DATABASE ${database.name} SET default_transaction_read_only = off`);
      await database.drop();
    }
  });
});
