import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('./bench-worker.ts', import.meta.url));

/** What a bench worker process reports of itself (bench/bench-worker.ts). */
export interface WorkerStats {
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  writes: number;
  transactions: number;
}

/**
 * A child Node process driven by lines: commands go to its stdin, and each answer is the next line
 * of its stdout, which must start with the prefix expected. The bench workers (bench-worker.ts,
 * postgres-worker.ts) speak this protocol.
 */
export class LineProcess {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  /** Runs `script` with the repository's Node and waits for its first line, `ready`. */
  static async start(
    script: string,
    args: readonly string[],
    nodeFlags: readonly string[] = [],
  ): Promise<LineProcess> {
    const child = spawn(NODE, [...nodeFlags, '--disable-warning=ExperimentalWarning', script, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const process = new LineProcess(child);
    await process.expect('ready');
    return process;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  send(command: string): void {
    this.#child.stdin!.write(`${command}\n`);
  }

  /** The next line the process says; it must start with `prefix`. */
  async expect(prefix: string): Promise<string> {
    const next = await this.#lines.next();
    if (next.done || !next.value.startsWith(prefix)) {
      throw new Error(
        `A bench worker process said ${next.done ? 'nothing (it exited)' : `'${next.value}'`}, not '${prefix}'.`,
      );
    }
    return next.value;
  }

  kill(): void {
    this.#child.stdin!.end();
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
  }
}

/** One bench worker process (bench/bench-worker.ts) on a store, driven over stdin. */
export class BenchWorker {
  readonly #process: LineProcess;

  private constructor(process: LineProcess) {
    this.#process = process;
  }

  /** Spawns a worker on `url` (a postgres:// URL or sqlite:path) and waits until its store is open. */
  static async start(url: string, poolSize = 3): Promise<BenchWorker> {
    return new BenchWorker(await LineProcess.start(WORKER_SCRIPT, [url, String(poolSize)], ['--expose-gc']));
  }

  get pid(): number {
    return this.#process.pid;
  }

  /** Starts the Baton worker; answers its stats once started (memory not collected first). */
  async go(concurrency: number): Promise<WorkerStats> {
    this.#process.send(`go ${concurrency}`);
    return JSON.parse((await this.#process.expect('started ')).slice('started '.length)) as WorkerStats;
  }

  async stats(): Promise<WorkerStats> {
    this.#process.send('stats');
    return JSON.parse((await this.#process.expect('stats ')).slice('stats '.length)) as WorkerStats;
  }

  /** Stops the Baton worker (its runs released); answers its stats from just before. */
  async stop(): Promise<WorkerStats> {
    this.#process.send('stop');
    return JSON.parse((await this.#process.expect('stopped ')).slice('stopped '.length)) as WorkerStats;
  }

  kill(): void {
    this.#process.kill();
  }
}

const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in µs, from /proc (undefined once it is gone). */
export function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * The CPU PostgreSQL spends for one database, from /proc (the server must be on this machine):
 * every backend serving the database (sampled from pg_stat_activity while it runs, so backends
 * that come and go are counted) plus the server's WAL writer, checkpointer and background writer,
 * which serve every database of the server alike.
 */
export class PostgresCpuMeter {
  readonly #client: pg.Client;
  readonly #database: string;
  readonly #backends = new Map<number, { first: number; last: number }>();
  readonly #shared = new Map<number, { first: number; last: number }>();
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();
  /** False when the server's processes cannot be read (another host, another container). */
  local = true;

  readonly #intervalMs: number;

  /**
   * For the database at `url`; the meter itself connects to the server's `postgres` database.
   * Every `intervalMs` it looks for backends that came and went (each look costs a query and a
   * read of /proc per process: a figure whose backends stay up can look less often).
   */
  constructor(url: string, intervalMs = 100) {
    this.#intervalMs = intervalMs;
    const server = new URL(url);
    this.#database = server.pathname.slice(1);
    server.pathname = '/postgres';
    this.#client = new pg.Client({ connectionString: server.toString() });
  }

  async start(): Promise<void> {
    await this.#client.connect();
    await this.#sample(true);
    this.#timer = setInterval(() => {
      this.#sampling = this.#sampling.then(() => this.#sample(false));
    }, this.#intervalMs);
  }

  /** Stops sampling; CPU µs of the database's backends and of the shared background processes. */
  async stop(): Promise<{ backendMicros: number; sharedMicros: number }> {
    clearInterval(this.#timer);
    await this.#sampling;
    await this.#sample(false);
    await this.#client.end();
    const sum = (map: Map<number, { first: number; last: number }>): number =>
      [...map.values()].reduce((total, { first, last }) => total + (last - first), 0);
    return { backendMicros: sum(this.#backends), sharedMicros: sum(this.#shared) };
  }

  async #sample(initial: boolean): Promise<void> {
    const result = await this.#client.query<{ pid: number; datname: string | null; backend_type: string }>(
      `SELECT pid, datname, backend_type FROM pg_stat_activity
       WHERE datname = $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
      [this.#database],
    );
    for (const row of result.rows) {
      const cpu = processCpuMicros(row.pid);
      if (cpu === undefined) {
        if (row.backend_type !== 'client backend') this.local = false;
        continue;
      }
      const map = row.datname === this.#database ? this.#backends : this.#shared;
      const seen = map.get(row.pid);
      // A backend first seen after the start began within the window: all its CPU counts.
      if (seen) seen.last = cpu;
      else map.set(row.pid, { first: initial || map === this.#shared ? cpu : 0, last: cpu });
    }
  }
}

/** Busy CPU time of the whole machine (every process, all cores), in µs, from /proc/stat. */
export function machineBusyMicros(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (
      (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1e6) /
      TICKS_PER_SECOND
    );
  } catch {
    return undefined;
  }
}
