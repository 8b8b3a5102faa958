import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { batonSource as source, cliProject } from './support/cli-project.ts';

/** A project: a baton.config.ts with a few workflows and a SQLite store next to it. */
const CONFIG = `
import { defineConfig, workflow, NonRetryableError } from ${JSON.stringify(source)};

const greet = workflow('greet', async (ctx, input: { name: string }) => {
  const text = await ctx.step('compose', () => 'Hello, ' + input.name);
  return { text };
});

const approval = workflow('approval', async (ctx, input: { amount: number }) => {
  await ctx.step('check', () => input.amount > 0);
  const decision = await ctx.waitFor<{ approved: boolean }>('approve');
  return { amount: input.amount, approved: decision.approved };
});

const broken = workflow('broken', async (ctx) => {
  await ctx.step('explode', () => { throw new NonRetryableError('the ledger is closed'); });
});

export default defineConfig({ store: 'sqlite:./cli.db', workflows: [greet, approval, broken] });
`;

const project = cliProject('baton-cli-', { 'baton.config.ts': CONFIG });
const { cli } = project;

async function json<T = any>(args: string[]): Promise<T> {
  const result = await cli([...args, '--json']);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as T;
}

async function untilStatus(runId: string, status: string): Promise<any> {
  for (;;) {
    const shown = await json(['show', runId]);
    if (shown.run.status === status) return shown;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('baton start', () => {
  it('runs a workflow to completion, printing each journal event and the result', async () => {
    const result = await cli(['start', 'greet', '--input', '{"name":"Ada"}', '--as', 'user:alice']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^Started run run_\w+ \(greet\)$/);
    expect(lines.find((line) => line.includes('run.started'))).toMatch(
      /^\s+1 .*run\.started\s+greet input=\{"name":"Ada"\}/,
    );
    expect(lines.find((line) => line.includes('step.completed'))).toMatch(
      /^\s+2 .*step\.completed\s+compose → "Hello, Ada"/,
    );
    expect(lines.find((line) => line.includes('run.completed'))).toMatch(/^\s+3 /);
    expect(result.stdout).toContain('"text": "Hello, Ada"');
  });

  it('--json prints one document with the run id, status and result', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Grace"}']);
    expect(started).toEqual({
      runId: expect.stringMatching(/^run_/),
      created: true,
      status: 'completed',
      result: { text: 'Hello, Grace' },
    });
  });

  it('a failing run exits 1 with its error', async () => {
    const result = await cli(['start', 'broken']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('step.failed');
    expect(result.stdout).toContain('the ledger is closed');
  });

  it('--detach only creates the run', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Linus"}', '--detach']);
    expect(started).toEqual({ runId: expect.stringMatching(/^run_/), created: true, status: 'pending' });
  });

  it('refuses an --input that is not JSON as a usage error, and creates no run', async () => {
    const before = (await json(['runs', '--limit', '1000'])).runs.length;
    const result = await cli(['start', 'greet', '--input', '{name: Ada}']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--input is not valid JSON');
    expect((await json(['runs', '--limit', '1000'])).runs.length).toBe(before);
  });

  it('names the registered workflows when the workflow is unknown', async () => {
    const result = await cli(['start', 'gret']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "No workflow named 'gret' is registered. Registered: greet, approval, broken.",
    );
    expect(result.stderr).not.toMatch(/\n\s+at /); // the message, not a stack

    const asJson = await cli(['start', 'gret', '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toEqual({
      error: { code: 'UNKNOWN_WORKFLOW', message: expect.stringContaining("'gret'") },
    });
  });
});

describe('a signal round trip', () => {
  it('parks on waitFor, takes the signal, and completes when followed again', async () => {
    const first = await json([
      'start',
      'approval',
      '--input',
      '{"amount":40}',
      '--idempotency-key',
      'order-7',
    ]);
    expect(first).toMatchObject({
      created: true,
      status: 'waiting',
      waits: [{ kind: 'signal', name: 'approve' }],
    });

    const shown = await cli(['show', first.runId]);
    expect(shown.stdout).toMatch(/waiting for\s+signal 'approve'/);

    const sent = await cli([
      'signal',
      first.runId,
      'approve',
      '--data',
      '{"approved":true}',
      '--as',
      'user:bob',
    ]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain(`Sent signal 'approve' to run ${first.runId}`);

    const again = await json([
      'start',
      'approval',
      '--input',
      '{"amount":40}',
      '--idempotency-key',
      'order-7',
    ]);
    expect(again).toEqual({
      runId: first.runId,
      created: false,
      status: 'completed',
      result: { amount: 40, approved: true },
    });
  });

  it('the text output of a parked start says how to send the signal', async () => {
    const result = await cli(['start', 'approval', '--input', '{"amount":1}']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is waiting, waiting for signal 'approve'\./);
    expect(result.stdout).toMatch(/baton signal run_\w+ approve --payload/);
  });

  it('a signal to a finished run is an error', async () => {
    const done = await json(['start', 'greet', '--input', '{"name":"x"}']);
    const result = await cli(['signal', done.runId, 'approve']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('it has already completed');
  });
});

describe('baton worker', () => {
  it('runs detached runs until stopped, then stops gracefully', async () => {
    const detached = await json(['start', 'greet', '--input', '{"name":"Barbara"}', '--detach']);
    const stop = new AbortController();
    const running = cli(['worker', '--concurrency', '4'], { signal: stop.signal });
    const shown = await untilStatus(detached.runId, 'completed');
    expect(shown.run.result).toEqual({ text: 'Hello, Barbara' });
    stop.abort();
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Worker worker_/);
    expect(result.stdout).toMatch(new RegExp(`${detached.runId}\\s+greet\\s+completed`));
    expect(result.stdout).toContain('Stopped.');
  });

  it('--json streams one JSON object per line', async () => {
    const detached = await json(['start', 'greet', '--input', '{"name":"Edsger"}', '--detach']);
    const stop = new AbortController();
    const running = cli(['worker', '--json'], { signal: stop.signal });
    await untilStatus(detached.runId, 'completed');
    stop.abort();
    const lines = (await running).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; runId?: string });
    expect(lines[0]).toMatchObject({ event: 'started', workflows: ['greet', 'approval', 'broken'] });
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'activation',
        runId: detached.runId,
        outcome: { status: 'completed' },
      }),
    );
    expect(lines.at(-1)).toMatchObject({ event: 'stopped' });
  });
});

describe('reading runs', () => {
  it('history prints seq, time, type, actor, a summary and (on a wide terminal) a hash prefix for every event', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Ada"}', '--as', 'user:alice']);
    const { events } = await json(['history', started.runId]);
    const result = await cli(['history', started.runId], { env: { COLUMNS: '160' } });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toContain(`${started.runId} · greet · 3 event(s)`);
    expect(lines[1]).toMatch(/^SEQ\s+TIME \(UTC\)\s+TYPE\s+ACTOR\s+HASH\s+SUMMARY$/);
    expect(lines).toHaveLength(2 + events.length);
    events.forEach((event: { seq: number; type: string; hash: string }, index: number) => {
      const line = lines[2 + index]!;
      expect(line).toMatch(
        new RegExp(
          `^\\s*${event.seq}\\s+\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\s+${event.type.replace('.', '\\.')}\\s`,
        ),
      );
      expect(line).toContain(event.hash.slice(0, 12));
    });
    expect(lines[2]).toContain('user:alice');
    expect(lines[3]).toContain('workflow:greet for user:alice');
    expect(lines[3]).toContain('compose → "Hello, Ada"');
  });

  it('--json shapes: history, show and runs', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Ken"}']);
    const history = await json(['history', started.runId]);
    expect(history).toMatchObject({ runId: started.runId, workflow: 'greet', status: 'completed' });
    expect(history.events.map((event: { type: string }) => event.type)).toEqual([
      'run.started',
      'step.completed',
      'run.completed',
    ]);
    expect(history.events[1]).toMatchObject({
      seq: 2,
      prevHash: history.events[0].hash,
      payload: { name: 'compose', result: 'Hello, Ken' },
    });

    const shown = await json(['show', started.runId]);
    expect(shown).toMatchObject({
      run: { runId: started.runId, status: 'completed', lastSeq: 3, result: { text: 'Hello, Ken' } },
      waits: [],
      children: [],
      pendingSignals: [],
    });

    const listed = await json([
      'runs',
      '--workflow',
      'greet',
      '--status',
      'completed,failed',
      '--limit',
      '2',
    ]);
    expect(listed.runs).toHaveLength(2);
    expect(listed.runs[0]).toMatchObject({ runId: started.runId, workflow: 'greet', status: 'completed' });
    // Times are ISO-8601 strings in every --json document.
    expect(listed.runs[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(shown.run.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('runs lists newest first, filtered by status', async () => {
    const parked = await json(['start', 'approval', '--input', '{"amount":3}']);
    const result = await cli(['runs', '--status', 'waiting']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+WORKFLOW\s+STATUS\s+WAITING ON\s+EVENTS/);
    expect(lines[1]).toMatch(new RegExp(`^${parked.runId}\\s+approval\\s+waiting\\s+signal approve\\s+3\\s`));
    expect(lines.slice(1).every((line) => /\swaiting\s/.test(line))).toBe(true);
  });

  it('an unknown run id names the nearest ones', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Tony"}']);
    // Change the second-to-last character to one it is not, so the typo is never the id itself.
    const changed = started.runId.at(-2) === 'x' ? 'y' : 'x';
    const typo = `${started.runId.slice(0, -2)}${changed}${started.runId.at(-1)}`;
    expect(typo).not.toBe(started.runId);
    const result = await cli(['show', typo]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`No run with id '${typo}'. Did you mean`);
    expect(result.stderr).toContain(started.runId);
  });

  it('an unambiguous start of a run id is enough', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Niklaus"}']);
    const prefix = started.runId.slice(0, -3);
    const shown = await json(['show', prefix]);
    expect(shown.run.runId).toBe(started.runId);
  });
});

describe('baton cancel and baton verify', () => {
  it('cancels a parked run; following it then ends in cancelled (exit 1)', async () => {
    const parked = await json([
      'start',
      'approval',
      '--input',
      '{"amount":9}',
      '--idempotency-key',
      'cancel-me',
    ]);
    const cancelled = await cli(['cancel', parked.runId, '--reason', 'customer withdrew']);
    expect(cancelled.code).toBe(0);
    const followed = await cli([
      'start',
      'approval',
      '--input',
      '{"amount":9}',
      '--idempotency-key',
      'cancel-me',
      '--json',
    ]);
    expect(followed.code).toBe(1);
    expect(JSON.parse(followed.stdout)).toMatchObject({ runId: parked.runId, status: 'cancelled' });
    const { events } = await json(['history', parked.runId]);
    expect(events.at(-1)).toMatchObject({ type: 'run.cancelled', payload: { reason: 'customer withdrew' } });
  });

  it('verify passes an intact chain and names the first broken link of an altered one', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Alan"}']);
    // This project does not sign: verification fails closed unless that is said explicitly.
    const unsigned = await cli(['verify', started.runId]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stdout).toContain('no public key to check signatures with');
    const intact = await cli(['verify', started.runId, '--allow-unsigned']);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain(`Run ${started.runId}: 3 events, chain intact`);

    const db = new DatabaseSync(join(project.dir, 'cli.db'));
    try {
      db.prepare(
        `UPDATE events SET payload = json_set(payload, '$.result', 'Hello, Mallory') WHERE run_id = ? AND seq = 2`,
      ).run(started.runId);
    } finally {
      db.close();
    }
    const altered = await cli(['verify', started.runId]);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toContain('the chain breaks at seq 2');
    expect(altered.stdout).toContain('the event was altered');
    const asJson = await cli(['verify', started.runId, '--json']);
    expect(JSON.parse(asJson.stdout)).toMatchObject({
      ok: false,
      events: 3,
      broken: { kind: 'hash', seq: 2 },
    });
  });

  it('verify notices events removed from the end', async () => {
    const started = await json(['start', 'greet', '--input', '{"name":"Barbara"}']);
    const db = new DatabaseSync(join(project.dir, 'cli.db'));
    try {
      db.prepare('DELETE FROM events WHERE run_id = ? AND seq = 3').run(started.runId);
    } finally {
      db.close();
    }
    const result = await cli(['verify', started.runId]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('events are missing from the end');
  });
});

describe('usage and configuration', () => {
  it('exit code 2, with a suggestion, for an unknown command or option and a missing argument', async () => {
    const command = await cli(['strat']);
    expect(command).toMatchObject({ code: 2, stdout: '' });
    expect(command.stderr).toContain("Unknown command 'strat'. Did you mean 'start'?");
    const option = await cli(['runs', '--stauts', 'waiting']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('Unknown option --stauts');
    expect(option.stderr).toContain('Did you mean --status?');
    const missing = await cli(['signal', 'run_x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Missing <name>');
    const status = await cli(['runs', '--status', 'sleeping']);
    expect(status.code).toBe(2);
  });

  it('help lists every command; a command’s help lists its options', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    for (const name of [
      'start',
      'worker',
      'runs',
      'show',
      'history',
      'signal',
      'cancel',
      'verify',
      'migrate',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    const start = await cli(['start', '--help']);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('Usage: baton start <workflow> [options]');
    expect(start.stdout).toContain('--idempotency-key <key>');
  });

  it('finds the config from a subdirectory and opens the store beside it', async () => {
    const nested = join(project.dir, 'deep', 'er');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(nested, { recursive: true });
    const fromRoot = await json(['runs', '--limit', '1000']);
    const result = await cli(['runs', '--json', '--limit', '1000'], { cwd: nested });
    expect(JSON.parse(result.stdout).runs.length).toBe(fromRoot.runs.length);
  });

  it('a config of the wrong shape is refused, naming the field', async () => {
    const other = mkdtempSync(join(tmpdir(), 'baton-cli-bad-'));
    try {
      writeFileSync(
        join(other, 'baton.config.ts'),
        `export default { workflows: [{ kind: 'workflow', name: 42, fn: () => null }] };\n`,
      );
      const result = await cli(['start', 'anything'], { cwd: other });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('baton.config.ts is invalid: workflows[0].name:');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('start needs a config; migrate does not, and --store wins over BATON_STORE', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'baton-cli-empty-'));
    try {
      const start = await cli(['start', 'greet'], { cwd: empty });
      expect(start.code).toBe(1);
      expect(start.stderr).toContain('No baton.config.ts found');
      const migrated = await cli(['migrate', '--json', '--store', 'sqlite:./flag.db'], {
        cwd: empty,
        env: { BATON_STORE: 'sqlite:./env.db' },
      });
      expect(JSON.parse(migrated.stdout)).toEqual({
        store: join(empty, 'flag.db'),
        source: 'flag',
        migrated: true,
      });
      const fromEnv = await cli(['migrate', '--json'], {
        cwd: empty,
        env: { BATON_STORE: 'sqlite:./env.db' },
      });
      expect(JSON.parse(fromEnv.stdout)).toMatchObject({
        store: join(empty, 'env.db'),
        source: 'BATON_STORE',
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
