import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { interleave, measurement, type Figure } from './harness.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'baton.js');
const run = promisify(execFile);

/** One process from spawn to exit: its wall time and the CPU time it used (user + system), in ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Preloaded into every measured process (--import): prints its CPU time on exit, on stderr. */
const CPU_REPORTER =
  "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`cpu-us ${u.user + u.system}\\n`); });\n";

async function timed(args: readonly string[], cwd: string, reporter: string): Promise<Timing> {
  const start = performance.now();
  const { stderr } = await run(process.execPath, ['--import', reporter, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '' },
  });
  const wallMs = performance.now() - start;
  const cpu = /cpu-us (\d+)/.exec(stderr)?.[1];
  if (cpu === undefined) throw new Error(`no CPU time reported by node ${args.join(' ')}: ${stderr}`);
  return { wallMs, cpuMs: Number(cpu) / 1000 };
}

type Sampled = 'node' | 'help' | 'runs' | 'importBaton';

/**
 * How fast the built package starts, as a user runs it: `baton --help`, `baton runs` on an empty
 * store, and a program that only imports 'baton', each against a bare `node -e 0` measured in the
 * same run (the same Node, interleaved), by wall time (the headline) and by CPU time (steadier on a
 * busy machine). The CLI loads only the command that runs; importing Baton loads no AI SDK,
 * OpenTelemetry or Cedar. Builds dist/ first when it is missing.
 */
export const startup: Figure = {
  id: 'startup',
  title: 'Startup: the built CLI and `import "baton"` against bare Node',
  async run(bench) {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
      bench.log('startup: building dist/ (tsc) first');
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT });
    }
    const dir = bench.tempDir('startup');
    const store = `sqlite:${join(dir, 'baton.db')}`;
    const created = SqliteStore.open({ path: join(dir, 'baton.db') });
    await created.close();
    const reporter = join(dir, 'cpu-reporter.mjs');
    writeFileSync(reporter, CPU_REPORTER);

    const timings: Record<Sampled, Timing[]> = { node: [], help: [], runs: [], importBaton: [] };
    const sample = (key: Sampled, args: string[], cwd: string) => async () => {
      const timing = await timed(args, cwd, reporter);
      timings[key].push(timing);
      return timing.wallMs;
    };
    const repeats = Math.max(bench.repeats, 7);
    await interleave(
      {
        node: sample('node', ['-e', '0'], dir),
        help: sample('help', [BIN, '--help'], dir),
        runs: sample('runs', [BIN, 'runs', '--store', store], dir),
        // From the repository's root, 'baton' resolves to the package itself: dist/index.js.
        importBaton: sample('importBaton', ['--input-type=module', '-e', "await import('baton')"], ROOT),
      },
      { warmup: bench.warmup, repeats },
    );
    // The measured repeats only (the warmups ran first).
    const measured = (key: Sampled) => timings[key].slice(-repeats);
    const wall = (key: Sampled, label: string) =>
      measurement(
        label,
        'ms',
        measured(key).map((timing) => timing.wallMs),
      );
    const cpu = (key: Sampled) =>
      measurement(
        key,
        'ms',
        measured(key).map((timing) => timing.cpuMs),
      ).value;
    const node = wall('node', 'node -e 0');
    const help = wall('help', 'baton --help');
    const runs = wall('runs', 'baton runs (empty store)');
    const importBaton = wall('importBaton', 'node -e "await import(\'baton\')"');
    const ratio = (m: { value: number }) => (m.value / node.value).toFixed(2);
    const cpuRatio = (key: Sampled) => (cpu(key) / cpu('node')).toFixed(2);
    return {
      measurements: [node, help, runs, importBaton],
      ratio: {
        label: 'slowest of `baton --help` and `baton runs` vs node -e 0 (wall)',
        value: Math.max(help.value, runs.value) / node.value,
        aim: { atMost: 1.3 },
      },
      notes: [
        `wall: baton --help ${ratio(help)}×, baton runs ${ratio(runs)}×, import 'baton' ${ratio(importBaton)}× of node -e 0`,
        `CPU:  baton --help ${cpuRatio('help')}×, baton runs ${cpuRatio('runs')}×, import 'baton' ${cpuRatio('importBaton')}× of node -e 0 (${cpu('node').toFixed(0)} ms)`,
        'Each is a new process on the same Node; medians of interleaved repeats.',
      ],
    };
  },
};
