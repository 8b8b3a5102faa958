import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * The benchmark harness: every figure is one file that exports a {@link Figure}, and one line in
 * bench/main.ts. A figure measures Baton against a physical baseline in the same process, on the same
 * disk, and reports the ratio. Benchmarks report; they never assert.
 */
export interface Figure {
  /** Short id, for `--only`: 'sequential', 'concurrent', 'resume'. */
  id: string;
  title: string;
  run(bench: BenchContext): Promise<FigureResult>;
}

export interface FigureResult {
  /** Each measured quantity: the baseline, Baton, and anything else worth printing. */
  measurements: Measurement[];
  /** The headline: Baton against the baseline. */
  ratio: Ratio;
  /** One-line facts worth printing under the table (sizes, batch shapes, caveats). */
  notes?: string[];
}

export interface Measurement {
  label: string;
  /** The median of the repeats. */
  value: number;
  unit: string;
  samples: readonly number[];
}

export interface Ratio {
  label: string;
  value: number;
  /** The aim, e.g. { atMost: 1.5 } or { atLeast: 10 }; absent when the brief sets none. */
  aim?: { atMost: number } | { atLeast: number };
}

export interface BenchContext {
  /** Repeats per measurement (after warmup), from --repeats; figures may scale it down for slow work. */
  readonly repeats: number;
  readonly warmup: number;
  /**
   * --quick (or BATON_BENCH_QUICK=1): figures whose full size takes minutes (parked runs) shrink
   * their counts for a CI-speed run, and say so in their notes. `npm run bench` runs them full.
   */
  readonly quick: boolean;
  /** A fresh directory on the temp disk, removed when the bench ends. */
  tempDir(prefix: string): string;
  /** Progress for people (stderr), so --json output stays clean. */
  log(message: string): void;
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs each sampler `warmup` times unmeasured, then `repeats` times, interleaving the samplers in
 * every repeat so that drift of the machine (page cache, fsync latency, thermal) hits them alike.
 * A sampler returns its own figure for one repeat (µs per step, ms per resume…).
 */
export async function interleave<K extends string>(
  samplers: Record<K, () => Promise<number> | number>,
  options: { warmup: number; repeats: number },
): Promise<Record<K, number[]>> {
  const keys = Object.keys(samplers) as K[];
  const samples = Object.fromEntries(keys.map((key) => [key, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < options.warmup + options.repeats; round++) {
    for (const key of keys) {
      const value = await samplers[key]();
      if (round >= options.warmup) samples[key].push(value);
    }
  }
  return samples;
}

export function measurement(label: string, unit: string, samples: readonly number[]): Measurement {
  return { label, value: median(samples), unit, samples };
}

/** Microseconds elapsed since `start` (a performance.now() reading). */
export function microsSince(start: number): number {
  return (performance.now() - start) * 1000;
}

/** CPU time (user + system, all threads) used by this process since `start` (a process.cpuUsage() reading), in µs. */
export function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/**
 * Wraps an async method of an object (a store's `commit`, `readEvents`…) to add up the time spent
 * in it, in µs: a figure can then tell time in the store from time in the engine around it.
 *
 * @example const commits = timeCalls(store, 'commit'); … commits.micros
 */
export function timeCalls<T extends object, K extends keyof T & string>(
  target: T,
  method: K,
): { micros: number; calls: number } {
  const total = { micros: 0, calls: 0 };
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  (target as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    const start = performance.now();
    try {
      return await original(...args);
    } finally {
      total.micros += microsSince(start);
      total.calls++;
    }
  };
  return total;
}

export function ratioMet(ratio: Ratio): boolean | undefined {
  if (!ratio.aim) return undefined;
  return 'atMost' in ratio.aim ? ratio.value <= ratio.aim.atMost : ratio.value >= ratio.aim.atLeast;
}

function aimText(ratio: Ratio): string {
  if (!ratio.aim) return '(no aim set)';
  const text = 'atMost' in ratio.aim ? `aim ≤ ${ratio.aim.atMost}×` : `aim ≥ ${ratio.aim.atLeast}×`;
  return `${text}: ${ratioMet(ratio) ? 'met' : 'MISSED'}`;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Prints a figure as a small table: label, median, unit, spread of the repeats. */
export function renderFigure(figure: Figure, result: FigureResult): string {
  const rows = result.measurements.map((m) => [
    m.label,
    formatNumber(m.value),
    m.unit,
    m.samples.length > 1
      ? `${formatNumber(Math.min(...m.samples))}–${formatNumber(Math.max(...m.samples))} (n=${m.samples.length})`
      : '',
  ]);
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = [`${figure.title}`];
  for (const row of rows) {
    lines.push(
      `  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padStart(widths[1]!)} ${row[2]!.padEnd(widths[2]!)}  ${row[3]}`.trimEnd(),
    );
  }
  lines.push(`  → ${result.ratio.label}: ${result.ratio.value.toFixed(2)}×  ${aimText(result.ratio)}`);
  for (const note of result.notes ?? []) lines.push(`    ${note}`);
  return lines.join('\n');
}

/**
 * Runs the figures named on the command line (all by default) and prints them, or one JSON document
 * with --json. Options: --only id[,id…], --repeats N, --warmup N, --quick, --json.
 */
export async function runBench(
  figures: readonly Figure[],
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      repeats: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
    },
  });
  const only = values.only?.split(',').map((id) => id.trim());
  const unknown = only?.filter((id) => !figures.some((figure) => figure.id === id)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`Unknown figure(s) ${unknown.join(', ')}; known: ${figures.map((f) => f.id).join(', ')}`);
  }
  const dirs: string[] = [];
  const context: BenchContext = {
    repeats: positiveInt(values.repeats, 'repeats'),
    warmup: positiveInt(values.warmup, 'warmup', true),
    quick: values.quick || process.env.BATON_BENCH_QUICK === '1',
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), `baton-bench-${prefix}-`));
      dirs.push(dir);
      return dir;
    },
    log: (message) => process.stderr.write(`${message}\n`),
  };
  const results: { id: string; title: string; result: FigureResult; seconds: number }[] = [];
  const began = performance.now();
  try {
    if (!values.json) {
      process.stdout.write(
        `Baton benchmark · node ${process.version} · ${process.platform}/${process.arch} · temp dir ${tmpdir()}\n\n`,
      );
    }
    for (const figure of figures) {
      if (only && !only.includes(figure.id)) continue;
      context.log(`· ${figure.title} …`);
      const start = performance.now();
      const result = await figure.run(context);
      const seconds = (performance.now() - start) / 1000;
      results.push({ id: figure.id, title: figure.title, result, seconds });
      if (!values.json)
        process.stdout.write(`${renderFigure(figure, result)}\n    (${seconds.toFixed(1)} s)\n\n`);
    }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const totalSeconds = (performance.now() - began) / 1000;
  if (values.json) {
    const out = {
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      seconds: totalSeconds,
      figures: results.map(({ id, title, result, seconds }) => ({
        id,
        title,
        seconds,
        ...result,
        met: ratioMet(result.ratio),
      })),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    process.stdout.write(`Total ${totalSeconds.toFixed(1)} s\n`);
  }
}

function positiveInt(text: string, name: string, zeroAllowed = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1))
    throw new Error(`--${name} must be an integer, got '${text}'`);
  return value;
}
