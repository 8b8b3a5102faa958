import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NODE } from './pinned-node.ts';

/** The repository's root: child processes run there unless told otherwise. */
export const ROOT = resolve(import.meta.dirname, '../..');

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed by the liveness guard: it ran longer than `limitMs`. */
  timedOut: boolean;
}

/** A Node process the test started: its output line by line, its exit, a SIGKILL. */
export interface NodeChild {
  /** The lines it printed so far. */
  readonly lines: readonly string[];
  /** What it printed on stderr so far. */
  readonly stderr: string;
  /** Resolves with the first line that starts with `prefix` (or undefined if the process ends first). */
  line(prefix: string): Promise<string | undefined>;
  /** Calls `listener` with each line it prints from now on. */
  onLine(listener: (line: string) => void): void;
  readonly exited: Promise<ChildExit>;
  /** SIGKILL: no cleanup of any kind runs in the child. */
  kill(): void;
}

/**
 * Runs `node <args>` on the pinned Node (with ExperimentalWarning silenced), in the repository's
 * root unless `cwd` says otherwise. A liveness guard, not a timing check: a child still running
 * after `limitMs` (default 60 s) is killed, and its exit says `timedOut`.
 */
export function spawnNode(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; limitMs?: number } = {},
): NodeChild {
  const proc = spawn(NODE, ['--disable-warning=ExperimentalWarning', ...args], {
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const waiters: { prefix: string; resolve: (line: string | undefined) => void }[] = [];
  let buffered = '';
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGKILL');
  }, options.limitMs ?? 60_000);
  proc.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stdout += text;
    buffered += text;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const listener of listeners) listener(line);
      for (const waiter of waiters.filter((candidate) => line.startsWith(candidate.prefix))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<ChildExit>((done, fail) => {
    proc.on('error', fail);
    proc.on('exit', (code, signal) => {
      clearTimeout(guard);
      for (const waiter of waiters.splice(0)) waiter.resolve(undefined);
      done({ code, signal, stdout, stderr, timedOut });
    });
  });
  return {
    lines,
    get stderr() {
      return stderr;
    },
    line: (prefix) => {
      const seen = lines.find((line) => line.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolveLine) => waiters.push({ prefix, resolve: resolveLine }));
    },
    onLine: (listener) => listeners.push(listener),
    exited,
    kill: () => proc.kill('SIGKILL'),
  };
}

/** One life of a crash-test worker: how it ended, and what it reported on its way. */
export interface WorkerLife {
  /** How the process ended: killed by us, or exited with a code. */
  ended: 'killed' | 'exited';
  code: number | null;
  /** How many `effect` lines it printed (an outside effect applied). */
  effects: number;
  /** Whether it printed `done` (all of the work finished). */
  done: boolean;
  stderr: string;
}

/**
 * When to SIGKILL a crash-test worker: a few ms (0–5, at random) after its n-th `effect` line — before,
 * during or after the journal commit that follows it — or some ms after it printed `ready`, whichever
 * comes first; or never.
 */
export type KillPlan = { afterEffects?: number; afterReadyMs?: number } | undefined;

/**
 * Runs a crash-test worker (a script printing `ready`, `effect` per outside effect and `done`) once,
 * and kills it as planned or lets it finish. Rejects when it runs past `limitMs`.
 */
export async function workerLife(
  args: readonly string[],
  plan: KillPlan,
  limitMs: number,
): Promise<WorkerLife> {
  // No --conditions=source: the workers import src/ by relative path, and that condition also sends
  // some dependencies (eventsource-parser, under the AI SDK) to their .ts sources, which Node refuses
  // to strip inside node_modules.
  const child = spawnNode(args, { limitMs });
  let effects = 0;
  let done = false;
  let killing = false;
  const kill = (): void => {
    if (killing) return;
    killing = true;
    child.kill();
  };
  child.onLine((line) => {
    if (line === 'effect') effects++;
    if (line === 'done') done = true;
    if (line === 'ready' && plan?.afterReadyMs !== undefined) setTimeout(kill, plan.afterReadyMs);
    if (plan?.afterEffects !== undefined && effects >= plan.afterEffects) {
      const extra = randomInt(0, 6);
      if (extra === 0) kill();
      else setTimeout(kill, extra);
    }
  });
  const exit = await child.exited;
  if (exit.timedOut) throw new Error(`worker did not finish within ${limitMs} ms; stderr:\n${exit.stderr}`);
  return {
    ended: exit.signal === 'SIGKILL' ? 'killed' : 'exited',
    code: exit.code,
    effects,
    done,
    stderr: exit.stderr,
  };
}

/** The lines of a log file a child process appends to (none while it does not exist yet). */
export function logLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
}

/**
 * Runs `node <args>` until the log file at `log` holds the line `until`, then SIGKILLs it, and
 * resolves with what it printed. Rejects, naming what was logged, when it exits before that.
 */
export async function killWhenLogged(
  args: readonly string[],
  log: string,
  until: string,
): Promise<{ stdout: string }> {
  const child = spawnNode(args);
  let gone = false;
  void child.exited.then(() => (gone = true));
  try {
    while (!logLines(log).includes(until)) {
      if (gone) throw new Error(`the process exited before '${until}' (log: ${logLines(log).join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    child.kill();
  }
  return { stdout: (await child.exited).stdout };
}
