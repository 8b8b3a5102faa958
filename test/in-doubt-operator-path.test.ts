import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { eventsOfType as of } from './support/journal-events.ts';
import { cliProject } from './support/cli-project.ts';
import { NODE } from './support/pinned-node.ts';

// Real processes: `baton start` runs an agent whose irreversible transfer kills its process after
// the money left and before the result was journaled. A worker (here `baton server --worker`)
// resumes the run, finds the call in doubt and parks it. An operator then sees what the run waits
// on (`runs`, `show`, `in-doubt`) and resolves it, from the CLI or over HTTP.

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = resolve(import.meta.dirname, 'fixtures/in-doubt-workflows.ts');
const TOKEN = 'ops-token-0123456789abcdef';

const CONFIG = `
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from ${JSON.stringify(resolve(ROOT, 'src/index.ts'))};
import { inDoubtWorkflows } from ${JSON.stringify(FIXTURE)};

export default defineConfig({
  store: 'sqlite:./doubt.db',
  workflows: inDoubtWorkflows(dirname(fileURLToPath(import.meta.url))),
  worker: { leaseMs: 1000 },
  server: { auth: { tokens: { ${JSON.stringify(TOKEN)}: { principal: 'service:ops-desk', tenant: 'default' } } } },
});
`;

const project = cliProject('baton-in-doubt-', { 'baton.config.ts': CONFIG });
const { cli } = project;
const runs: Record<number, string> = {};
let url: string;
const stopServer = new AbortController();
let server: Promise<number>;

/** `baton start pay` in a process of its own, which the transfer kills. */
function startAndCrash(cents: number): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((done, reject) => {
    const child = spawn(
      NODE,
      [
        join(ROOT, 'bin/baton.js'),
        'start',
        'pay',
        '--input',
        JSON.stringify({ cents }),
        '--as',
        'user:alice',
      ],
      { cwd: project.dir, env: { ...process.env, BATON_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => done({ signal, stdout }));
  });
}

async function shown(runId: string): Promise<{ run: { status: string }; waits: { kind: string }[] }> {
  return JSON.parse((await cli(['show', runId, '--json'])).stdout) as never;
}

async function until(runId: string, status: string): Promise<void> {
  while ((await shown(runId)).run.status !== status) await new Promise((done) => setTimeout(done, 100));
}

function effects(): string[] {
  return readFileSync(join(project.dir, 'effects.log'), 'utf8').trim().split('\n');
}

beforeAll(async () => {
  for (const cents of [500, 700]) {
    const crashed = await startAndCrash(cents);
    expect(crashed.signal).toBe('SIGKILL');
    runs[cents] = /Started run (run_\w+)/.exec(crashed.stdout)![1]!;
  }
  let listening!: (url: string) => void;
  const ready = new Promise<string>((done) => (listening = done));
  server = main(['server', '--port', '0', '--worker', '--json'], {
    stdout: {
      write: (text: string) => {
        const match = /"url":"([^"]+)"/.exec(text);
        if (match) listening(match[1]!);
      },
    },
    stderr: { write: () => undefined },
    cwd: project.dir,
    env: {},
    signal: stopServer.signal,
  });
  url = await ready;
  // The worker takes each run once the dead process's lease expires, and parks its call in doubt.
  for (const cents of [500, 700]) await until(runs[cents]!, 'waiting');
});
afterAll(async () => {
  stopServer.abort();
  await server;
});

describe('a crashed irreversible tool call, for an operator', () => {
  it('runs, show and in-doubt say what each parked run waits on', async () => {
    expect(effects()).toEqual(['transfer 500', 'transfer 700']);
    const list = await cli(['runs']);
    expect(list.stdout).toMatch(new RegExp(`${runs[500]}.*waiting.*in-doubt bank\\.transfer \\(op \\d+\\)`));
    const show = await cli(['show', runs[500]!]);
    expect(show.stdout).toMatch(/waiting for\s+in-doubt tool call \S+ \(bank\.transfer, op \d+\)/);
    expect((await shown(runs[500]!)).waits).toMatchObject([{ kind: 'in-doubt', tool: 'bank.transfer' }]);

    const table = await cli(['in-doubt']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('bank.transfer');
    expect(table.stdout).toContain('irreversible');
    const { calls } = JSON.parse((await cli(['in-doubt', '--json'])).stdout) as {
      calls: { runId: string; args: unknown; actor: string }[];
    };
    expect(calls.map((call) => call.runId).sort()).toEqual([runs[500], runs[700]].sort());
    expect(calls.find((call) => call.runId === runs[700])).toMatchObject({
      args: { cents: 700 },
      actor: 'agent:teller',
    });
  });

  it('baton resolve --result skips the call and gives the model what happened, as the operator', async () => {
    const bad = await cli(['resolve', runs[500]!, '999', '--skip', '--as', 'user:ops']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no tool call in doubt at op 999');
    expect((await cli(['resolve', runs[500]!, '1', '--as', 'user:ops'])).code).toBe(2);

    const [call] = (
      JSON.parse((await cli(['in-doubt', runs[500]!, '--json'])).stdout) as { calls: { callId: string }[] }
    ).calls;
    const resolved = await cli([
      'resolve',
      runs[500]!,
      call!.callId,
      '--result',
      '{"transferred":500,"checkedBy":"ops"}',
      '--as',
      'user:ops',
    ]);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(resolved.stdout).toContain(`of run ${runs[500]}: skip it, with the result`);
    await until(runs[500]!, 'completed');
    const history = JSON.parse((await cli(['history', runs[500]!, '--json'])).stdout) as {
      events: never[];
    };
    expect(of(history.events, 'tool.resolved')[0]!.payload).toMatchObject({ action: 'skip', by: 'user:ops' });
    // The money left once: the transfer did not run again.
    expect(effects().filter((line) => line === 'transfer 500')).toHaveLength(1);
  });

  it('POST /api/runs/{run}/in-doubt/{call} retries the call, as the caller', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const listed = (await (await fetch(`${url}/api/in-doubt`, { headers })).json()) as {
      calls: { runId: string; op: number }[];
    };
    expect(listed.calls.map((call) => call.runId)).toEqual([runs[700]]);
    const response = await fetch(`${url}/api/runs/${runs[700]}/in-doubt/${listed.calls[0]!.op}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ action: 'retry' }),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ action: 'retry', by: 'service:ops-desk' });
    await until(runs[700]!, 'completed');
    const history = JSON.parse((await cli(['history', runs[700]!, '--json'])).stdout) as {
      events: never[];
    };
    expect(of(history.events, 'tool.resolved')[0]!.payload).toMatchObject({
      action: 'retry',
      by: 'service:ops-desk',
    });
    // A retry is the operator's choice: the transfer ran again.
    expect(effects().filter((line) => line === 'transfer 700')).toHaveLength(2);
    const again = await fetch(`${url}/api/runs/${runs[700]}/in-doubt/${listed.calls[0]!.op}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ action: 'skip' }),
    });
    expect(again.status).toBe(400);
    const spec = (await (await fetch(`${url}/api/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/in-doubt', '/api/runs/{runId}/in-doubt/{call}']),
    );
  });
});
