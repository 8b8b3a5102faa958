import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { NODE } from './support/pinned-node.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

// What a process loads is what it pays for at startup. Importing 'baton' for a workflow that uses no
// agent, no policies and no telemetry loads none of the AI SDK, OpenTelemetry, Cedar, the MCP SDK,
// cockatiel (circuit breakers) or zod: they are loaded when first used. Importing it loads none of
// the parts a Baton is made of either (Baton.open loads them), and the CLI loads only what its command
// needs. Checked in child processes that record every module they resolve (not by timing).

const probe = fileURLToPath(new URL('./fixtures/module-probe.ts', import.meta.url));
const cliProbe = fileURLToPath(new URL('./fixtures/cli-module-probe.ts', import.meta.url));
const cleanup = cleanupsAfterAll();
const run = promisify(execFile);
const HEAVY =
  /^(ai|@ai-sdk\/.*|@opentelemetry\/.*|@cedar-policy\/.*|@modelcontextprotocol\/.*|cockatiel|zod)$/;

/** The lines of `stdout` after the line `heading`, up to the next heading of `headings`. */
function section(stdout: string, heading: string, headings: readonly string[]): string[] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(heading) + 1;
  expect(start).toBeGreaterThan(0);
  const end = lines.findIndex((line, index) => index >= start && headings.includes(line));
  return lines.slice(start, end === -1 ? undefined : end).filter(Boolean);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-probe-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("importing 'baton'", () => {
  it('runs a workflow without agents without loading the AI SDK, OpenTelemetry, Cedar, MCP or zod', async () => {
    const dir = await tempDir();
    const { stdout } = await run(
      NODE,
      ['--conditions=baton-source', '--disable-warning=ExperimentalWarning', probe, dir],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    expect(stdout).toContain('result "Hello, Ada."');
    const headings = ['packages', 'imported', 'ran'];
    expect(section(stdout, 'packages', headings).filter((name) => HEAVY.test(name))).toEqual([]);
    const imported = section(stdout, 'imported', headings);
    const ran = section(stdout, 'ran', headings);
    // The parts of a Baton, its store and its layers: loaded by Baton.open, not by the import.
    const parts = [
      'src/engine/worker.ts',
      'src/guard/guard.ts',
      'src/context-layers.ts',
      'src/access/access-control.ts',
      'src/store/sqlite/sqlite-store.ts',
    ];
    // The probe saw what the run loaded (a probe that records nothing would pass anything).
    expect(ran).toEqual(expect.arrayContaining(['src/index.ts', 'src/baton.ts', ...parts]));
    expect(parts.filter((path) => imported.includes(path))).toEqual([]);
  });
});

describe('the baton CLI', () => {
  const probeCli = async (cwd: string, ...argv: string[]) => {
    const { stdout } = await run(NODE, ['--disable-warning=ExperimentalWarning', cliProbe, cwd, ...argv], {
      env: { PATH: process.env.PATH ?? '' },
    });
    const headings = ['modules', 'packages', 'builtins'];
    return {
      stdout,
      modules: section(stdout, 'modules', headings),
      packages: section(stdout, 'packages', headings),
      builtins: section(stdout, 'builtins', headings),
    };
  };

  it('prints its help loading nothing but the CLI', async () => {
    const { stdout, modules, packages } = await probeCli(await tempDir(), '--help');
    expect(stdout).toContain('exit 0');
    expect(modules).toContain('src/cli/main.ts');
    expect(
      modules.filter((path) => !/^src\/(cli\/|errors\.ts|defined-fields|edit-distance)/.test(path)),
    ).toEqual([]);
    expect(packages).toEqual([]);
  });

  it('lists runs reading the store alone: no Baton, no layer, no config checks, no zod, no node:crypto', async () => {
    const dir = await tempDir();
    const store = SqliteStore.open({ path: join(dir, 'baton.db') });
    await store.close();
    const { stdout, modules, packages, builtins } = await probeCli(
      dir,
      'runs',
      '--store',
      `sqlite:${join(dir, 'baton.db')}`,
    );
    expect(stdout).toContain('No runs.');
    expect(modules).toEqual(
      expect.arrayContaining(['src/cli/commands/runs.ts', 'src/store/sqlite/sqlite-store.ts']),
    );
    const above = modules.filter((path) =>
      /^src\/(baton\.ts|context-layers\.ts|agents\/|guard\/|routing\/|engine\/worker\.ts|explain\/(?!suggest-run-ids))/.test(
        path,
      ),
    );
    expect(above).toEqual([]);
    expect(packages).toEqual([]);
    // No config file here, so none of the config's checks (the access layer, zod's loader, the pools').
    expect(
      modules.filter((path) =>
        /^src\/(access\/|lazy-module\.ts|cli\/validate-config|resources\/)/.test(path),
      ),
    ).toEqual([]);
    // Reading rows hashes nothing: node:crypto is loaded at the first hash (the list is Node's own,
    // and holds node:sqlite, so a probe that recorded nothing would not pass).
    expect(builtins).toContain('sqlite');
    expect(builtins).not.toContain('crypto');
    // What it loads now (43 of Baton's modules: the CLI, the command, the SQLite store with all of its
    // parts): a change that loads more fails here and says so.
    expect(modules.length).toBeLessThanOrEqual(43);
  });
});
