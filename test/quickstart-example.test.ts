import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensurePackageBuilt } from './support/package-build.ts';
import { NODE } from './support/pinned-node.ts';
import { cleanupsAfterAll } from './support/cleanups.ts';

// examples/quickstart is a project of its own that depends on this package. Copied to a temporary
// folder, installed with npm and run with `node app.ts`, as a user would run their own code: its
// imports of 'baton' and 'baton/testing' resolve to the package's build, not to this repository's
// sources. Offline: its dependencies are installed from this checkout (`file:` links).

const run = promisify(execFile);
const cleanup = cleanupsAfterAll();

describe('the quickstart example project', () => {
  it('installs, runs its workflow and agent from its own code, and the CLI reads the run', async () => {
    const root = await ensurePackageBuilt();
    const dir = await mkdtemp(join(tmpdir(), 'baton-quickstart-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const example = join(root, 'examples', 'quickstart');
    await cp(example, dir, {
      recursive: true,
      filter: (source) => !/(node_modules|baton\.db.*|package-lock\.json|\.baton)$/.test(source),
    });
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies.baton).toBe('file:../..');
    manifest.dependencies.baton = `file:${root}`;
    manifest.dependencies.zod = `file:${join(root, 'node_modules', 'zod')}`;
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));

    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir };
    await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      env,
    });

    const app = await run(NODE, ['app.ts'], { cwd: dir, env });
    expect(app.stdout).toContain(
      'Welcome aboard! Your team plan includes 5 seats, shared runs, audit export.',
    );
    const runId = /Run (run_\w+) is in the journal/.exec(app.stdout)?.[1];
    expect(runId).toBeDefined();

    // The CLI the project installed reads the same journal through baton.config.ts.
    const cli = await run(NODE, [join(dir, 'node_modules', '.bin', 'baton'), 'runs', '--json'], {
      cwd: dir,
      env,
    });
    const { runs } = JSON.parse(cli.stdout) as {
      runs: { runId: string; workflow: string; status: string }[];
    };
    expect(runs.map(({ runId, workflow, status }) => ({ runId, workflow, status }))).toEqual([
      { runId, workflow: 'welcome', status: 'completed' },
    ]);
  }, 180_000);
});
