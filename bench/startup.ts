import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, type Figure } from './harness.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'baton.js');
const run = promisify(execFile);

/** Wall time of one process from spawn to exit, in ms. */
async function timed(args: readonly string[], cwd: string): Promise<number> {
  const start = performance.now();
  await run(process.execPath, [...args], { cwd, env: { PATH: process.env.PATH ?? '' } });
  return performance.now() - start;
}

/**
 * How fast the built package starts, as a user runs it: `baton --help`, `baton runs` on an empty
 * store, and a program that only imports 'baton', each against a bare `node -e 0` measured in the
 * same run (the same Node, interleaved). The CLI loads only the command that runs; importing
 * Baton loads no AI SDK, OpenTelemetry or Cedar. Builds dist/ first when it is missing.
 */
export const startup: Figure = {
  id: 'startup',
  title: 'Startup: the built CLI and `import "baton"` against bare Node',
  async run(bench) {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
      bench.log('startup: building dist/ (tsc) first');
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        {
          cwd: ROOT,
        },
      );
    }
    const dir = bench.tempDir('startup');
    const store = `sqlite:${join(dir, 'baton.db')}`;
    const created = SqliteStore.open({ path: join(dir, 'baton.db') });
    await created.close();

    const samples = await interleave(
      {
        node: () => timed(['-e', '0'], dir),
        help: () => timed([BIN, '--help'], dir),
        runs: () => timed([BIN, 'runs', '--store', store], dir),
        // From the repository's root, 'baton' resolves to the package itself: dist/index.js.
        importBaton: () => timed(['--input-type=module', '-e', "await import('baton')"], ROOT),
      },
      { warmup: bench.warmup, repeats: Math.max(bench.repeats, 7) },
    );
    const node = measurement('node -e 0', 'ms', samples.node);
    const help = measurement('baton --help', 'ms', samples.help);
    const runs = measurement('baton runs (empty store)', 'ms', samples.runs);
    const importBaton = measurement('node -e "await import(\'baton\')"', 'ms', samples.importBaton);
    const ratio = (m: { value: number }) => m.value / node.value;
    const slowest = Math.max(ratio(help), ratio(runs));
    return {
      measurements: [node, help, runs, importBaton],
      ratio: {
        label: 'slowest of `baton --help` and `baton runs` vs node -e 0',
        value: slowest,
        aim: { atMost: 1.3 },
      },
      notes: [
        `baton --help ${ratio(help).toFixed(2)}×, baton runs ${ratio(runs).toFixed(2)}×, import 'baton' ${ratio(importBaton).toFixed(2)}× of node -e 0`,
        'Each is a new process on the same Node; medians of interleaved repeats.',
      ],
    };
  },
};
