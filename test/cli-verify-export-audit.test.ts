import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SigningKey } from '../src/access/signing-key.ts';
import { batonSource as access, cliProject } from './support/cli-project.ts';

/** 'baton/access' in this repository's sources. */
const accessSubpath = access.replace(/index\.ts$/, 'access/index.ts');

/** A project whose config signs checkpoints (key in .baton/keys) and authorizes a tool call. */
const CONFIG = `
import { defineConfig, workflow } from ${JSON.stringify(access)};
import { PolicyEngine, authorizeDurably, actingFor, chainOf, createGrant } from ${JSON.stringify(accessSubpath)};

const policies = PolicyEngine.fromSources([{ name: 'mail.cedar', text:
  '@id("mail-inside") permit (principal is Agent, action == Action::"InvokeTool", resource == Tool::"email.send") ' +
  'when { resource.hasTag("to") && resource.getTag("to") like "*@acme.com" };' }]);

const mail = workflow('mail', async (ctx, input: { to: string }) => {
  const grant = createGrant({ tenant: ctx.tenant, holder: ctx.principal, actions: ['tool:email.*'] });
  const decision = await authorizeDurably(ctx, policies, {
    chain: actingFor(chainOf(ctx), 'agent:mailer'),
    action: 'InvokeTool',
    resource: { kind: 'tool', name: 'email.send', args: { to: input.to } },
    grant,
  });
  await ctx.step('send', () => decision.decision === 'allow');
  return decision.decision;
});

export default defineConfig({ store: 'sqlite:./access.db', workflows: [mail], signing: {} });
`;

const project = cliProject('baton-cli-access-', { 'baton.config.ts': CONFIG });
const { cli } = project;

async function startMail(to: string, as = 'user:alice'): Promise<string> {
  const result = await cli([
    'start',
    'mail',
    '--input',
    JSON.stringify({ to }),
    '--as',
    as,
    '--tenant',
    'acme',
    '--json',
  ]);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { runId: string }).runId;
}

describe('baton verify, export and audit', () => {
  it('signs runs as they finish, and verifies one run, every run, and an exported bundle offline', async () => {
    const runId = await startMail('bob@acme.com');
    expect(existsSync(join(project.dir, '.baton', 'keys', 'checkpoint-ed25519.pem'))).toBe(true);

    const one = await cli(['verify', runId]);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toContain('chain intact');
    expect(one.stdout).toMatch(/Signed through seq \d+ by key [0-9a-f]{16}\./);

    const bundleFile = join(project.dir, 'bundle.json');
    const exported = await cli(['export', runId, '--out', bundleFile]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`Wrote the bundle of run ${runId}`);

    // Offline: from another directory, with only the bundle and the public key.
    const key = await SigningKey.open({ directory: join(project.dir, '.baton', 'keys') });
    const elsewhere = mkdtempSync(join(tmpdir(), 'baton-offline-'));
    try {
      writeFileSync(join(elsewhere, 'baton.pub.pem'), key.publicPem());
      const other = SigningKey.generate();
      writeFileSync(join(elsewhere, 'other.pub.pem'), other.publicPem());
      const offline = (args: string[]) => cli(args, { cwd: elsewhere });
      const good = await offline(['verify', '--bundle', bundleFile, '--key', 'baton.pub.pem']);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain(`Bundle of run ${runId}`);
      expect(good.stdout).toContain(`by key ${key.keyId}`);
      const wrong = await offline(['verify', '--bundle', bundleFile, '--key', 'other.pub.pem']);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain(`signed with key ${key.keyId}, not the trusted key ${other.keyId}`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }

    const second = await startMail('carol@acme.com');
    const all = await cli(['verify', '--all']);
    expect(all.code, all.stdout).toBe(0);
    expect(all.stdout).toContain('2 of 2 run(s) verify');

    const db = new DatabaseSync(join(project.dir, 'access.db'));
    try {
      db.prepare(`UPDATE events SET actor = 'agent:someone-else' WHERE run_id = ? AND seq = 2`).run(second);
    } finally {
      db.close();
    }
    const tampered = await cli(['verify', '--all', '--json']);
    expect(tampered.code).toBe(1);
    const report = JSON.parse(tampered.stdout) as {
      failed: { runId: string; problem: { kind: string; seq: number } }[];
    };
    expect(report.failed.map((run) => [run.runId, run.problem.kind, run.problem.seq])).toEqual([
      [second, 'hash', 2],
    ]);
  });

  it('lists who did what under which authorization', async () => {
    await startMail('mallory@evil.example', 'user:mallory');
    const denied = await cli(['audit', '--as', 'user:mallory', '--decision', 'deny', '--json']);
    expect(denied.code, denied.stderr).toBe(0);
    const { entries } = JSON.parse(denied.stdout) as {
      entries: { actor: string; chain: string; resource: string; reason: string }[];
    };
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: 'agent:mailer',
      chain: 'agent:mailer for workflow:mail for user:mallory',
      resource: 'tool:email.send',
      reason: 'default deny',
    });
    const table = await cli(['audit', '--agent', 'mailer', '--action', 'tool:email.*']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^AT\s+RUN#SEQ\s+DECISION/);
    expect(table.stdout).toContain('DENY');
    expect(table.stdout).toContain('ALLOW');
    expect((await cli(['audit', '--decision', 'maybe'])).code).toBe(2);
  });
});
