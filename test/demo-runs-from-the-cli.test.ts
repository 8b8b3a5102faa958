import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baton } from '../src/index.ts';
import { NODE } from './support/pinned-node.ts';

// `npm run demo` ends by printing CLI commands for its run; the demo ships the config the CLI needs
// (examples/demo/baton.config.ts, and the repository's baton.config.ts that re-exports it), so each
// printed command works as printed, from the repository's root and from examples/demo.

const ROOT = resolve(import.meta.dirname, '..');
let state: string;
let printed: string[][];
let runId: string;

/** Runs `baton <args>` as a user would (bin/baton.js, a process of its own) in `cwd`. */
function baton(
  args: string[],
  cwd: string,
  signal?: AbortSignal,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(NODE, [join(ROOT, 'bin/baton.js'), ...args], {
      cwd,
      env: { ...process.env, BATON_DEMO_DIR: state, BATON_MODEL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal ? { signal, killSignal: 'SIGTERM' as const } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => (error.name === 'AbortError' ? undefined : reject(error)));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'baton-demo-cli-'));
  const stdout = await new Promise<string>((done, reject) => {
    const child = spawn(
      NODE,
      [
        '--conditions=baton-source',
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'examples/demo/main.ts'),
      ],
      {
        cwd: state,
        env: {
          ...process.env,
          BATON_MODEL: '',
          BATON_SERVER_URL: 'http://127.0.0.1:9',
          BATON_DEMO_DIR: state,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? done(text) : reject(new Error(`the demo exited ${code}`))));
  });
  runId = /run\s+(run_\w+) \(completed/.exec(stdout)![1]!;
  printed = stdout
    .slice(stdout.indexOf('Explore it'))
    .split('\n')
    .map((line) => /^\s+npm run baton -- (.*?)(\s+\(.*\))?$/.exec(line)?.[1])
    .filter((command): command is string => command !== undefined)
    .map(words);
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

/** Splits a printed command line into arguments ('single quotes' group words). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

function command(name: string): string[] {
  const found = printed.find((args) => args[0] === name);
  expect(found, `the demo prints 'npm run baton -- ${name} …'`).toBeDefined();
  return found!;
}

describe('the demo’s runs from the CLI, with the commands the demo prints', () => {
  it('prints show, history, explain, verify, replay, fork and worker for its run', () => {
    expect(printed.map((args) => args[0])).toEqual([
      'show',
      'history',
      'explain',
      'verify',
      'replay',
      'fork',
      'worker',
    ]);
    for (const args of printed.slice(0, 6)) expect(args[1]).toBe(runId);
  });

  it('show, history, explain and verify read the run from the repository root', async () => {
    const names = ['show', 'history', 'explain', 'verify'];
    const results = await Promise.all(names.map((name) => baton(command(name), ROOT)));
    for (const [index, name] of names.entries()) {
      const result = results[index]!;
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(name === 'explain' ? 'agent writer' : runId);
    }
  });

  it('replay finds the workflow research-brief and reports no divergence, from examples/demo', async () => {
    const result = await baton(command('replay'), join(ROOT, 'examples/demo'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Replayed run ${runId} (research-brief,`);
    expect(result.stdout).toContain('no divergence');
  });

  it('fork makes a what-if run that a CLI worker takes to the approval gate again', async () => {
    const forked = await baton([...command('fork'), '--json'], ROOT);
    expect(forked.code, forked.stderr).toBe(0);
    const fork = (JSON.parse(forked.stdout) as { runId: string }).runId;
    expect(fork).not.toBe(runId);

    const stop = new AbortController();
    const worker = baton(command('worker'), join(ROOT, 'examples/demo'), stop.signal);
    const store = await Baton.open({ store: `sqlite:${join(state, 'demo.db')}`, createStore: false });
    let status: string;
    try {
      do {
        await new Promise((done) => setTimeout(done, 200));
        status = (await store.getRun(fork)).status;
      } while (status !== 'waiting' && status !== 'failed');
    } finally {
      await store.close();
    }
    stop.abort();
    await worker;
    expect(status).toBe('waiting');
    const approvals = await baton(['approvals', '--json'], ROOT);
    expect(approvals.stdout).toContain(fork);
    const history = await baton(['history', fork], ROOT);
    expect(history.stdout).toContain('run.forked');
  });
});
