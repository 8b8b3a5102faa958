import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../src/cli/validate-config.ts';
import type { JournalEvent } from '../src/journal/events.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { batonSource as source, runCli, writeProject, type CliResult } from './support/cli-project.ts';

// Policies named in baton.config.ts (files and patterns, from the config's folder) are loaded by the
// CLI once, validated against Baton's schema, and decide every tool call of the runs it starts.

const zod = createRequire(import.meta.url).resolve('zod');

const CONFIG = `
import { z } from ${JSON.stringify(zod)};
import { defineConfig, workflow, tool, callTool } from ${JSON.stringify(source)};

const search = tool({
  name: 'search.web',
  description: 'Searches',
  input: z.object({ query: z.string() }),
  effect: 'read',
  execute: ({ query }) => ({ hits: [query] }),
});
const refund = tool({
  name: 'payments.refund',
  description: 'Refunds',
  input: z.object({ chargeId: z.string() }),
  effect: 'irreversible',
  execute: () => ({ refunded: true }),
});
const guarded = workflow('guarded', async (ctx) => {
  const found = await callTool(ctx, search, { query: 'q' });
  const refunded = await callTool(ctx, refund, { chargeId: 'ch_1' }).catch((error) => error.code);
  return { found, refunded };
});

export default defineConfig({
  store: 'sqlite:./cli.db',
  workflows: [guarded],
  policies: ['policies/*.cedar'],
  grant: { actions: ['tool:*'], ttl: '1h' },
});
`;

const projects: string[] = [];
afterAll(() => {
  for (const project of projects) rmSync(project, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = writeProject('baton-cli-policies-', { 'baton.config.ts': CONFIG, ...files });
  projects.push(dir);
  mkdirSync(join(dir, 'policies'), { recursive: true });
  return dir;
}

function cli(cwd: string, args: string[]): Promise<CliResult> {
  return runCli(args, { cwd });
}

describe('policies from baton.config.ts', () => {
  it('are loaded by the CLI from the config’s folder and decide every tool call (default deny)', async () => {
    const dir = project({
      'policies/tools.cedar': `// Only searching is permitted.\n@id("search-only")\npermit (principal, action == Action::"InvokeTool", resource == Tool::"search.web");\n`,
    });
    // Run from a subfolder: the patterns are the config's, not the working directory's.
    mkdirSync(join(dir, 'nested'));
    const result = await cli(join(dir, 'nested'), ['start', 'guarded', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const started = JSON.parse(result.stdout) as { runId: string; result: unknown };
    expect(started.result).toEqual({ found: { hits: ['q'] }, refunded: 'TOOL_CALL_DENIED' });

    const store = SqliteStore.open({ path: join(dir, 'cli.db') });
    try {
      const events = await store.readEvents(started.runId);
      const grant = (events[0] as JournalEvent<'run.started'>).payload.grant!;
      expect(grant).toMatchObject({
        actions: ['tool:*'],
        holder: 'user:anonymous',
        depth: 0,
        expiresAt: expect.any(String),
      });
      const decisions = events.filter(
        (event): event is JournalEvent<'tool.authorized'> => event.type === 'tool.authorized',
      );
      expect(
        decisions.map((event) => [
          event.payload.name,
          event.payload.decision,
          event.payload.reason,
          event.payload.policies,
        ]),
      ).toEqual([
        ['search.web', 'allow', 'policy', ['search-only']],
        ['payments.refund', 'deny', 'default deny', []],
      ]);
      expect(decisions.every((event) => event.payload.grantId === grant.id)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('a malformed policy file fails the command with its file, line and column, and starts nothing', async () => {
    const dir = project({
      'policies/ok.cedar': `permit (principal, action == Action::"InvokeTool", resource);\n`,
      'policies/broken.cedar': `// a comment\n\npermit (principal, action == Action::"InvokeTool", resource) when { principal.nope == };\n`,
    });
    const result = await cli(dir, ['start', 'guarded']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The Cedar policies cannot be loaded');
    expect(result.stderr).toMatch(/policies\/broken\.cedar:3:\d+: /);
    expect(result.stderr).not.toContain('ok.cedar');
  });

  it('a policy that does not validate against the schema is reported where it is', async () => {
    const dir = project({
      'policies/typo.cedar': `\n@id("typo")\npermit (principal, action == Action::"InvokeTol", resource);\n`,
    });
    const result = await cli(dir, ['start', 'guarded']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/policies\/typo\.cedar:3:\d+: .*InvokeTol/);
  });

  it('a pattern that matches no file is an error, not silently no policies', async () => {
    const dir = project({});
    const result = await cli(dir, ['start', 'guarded']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`policies/*.cedar: matches no file in ${dir}`);
  });
});

describe('the config loader checks access and pool settings', () => {
  const workflows: never[] = [];
  it('names the bad field', () => {
    expect(() => validateConfig({ workflows, grant: { actions: ['refund money'] } }, 'c.ts')).toThrow(
      "c.ts is invalid: grant: 'refund money' is not a grant action",
    );
    expect(() => validateConfig({ workflows, grant: 'tool:*' }, 'c.ts')).toThrow(
      'c.ts is invalid: grant: expected',
    );
    expect(() => validateConfig({ workflows, policies: 'policies/*.cedar' }, 'c.ts')).toThrow(
      'c.ts is invalid: policies: expected',
    );
    expect(() => validateConfig({ workflows, policies: {} }, 'c.ts')).toThrow(
      'c.ts is invalid: policies must be',
    );
    expect(() => validateConfig({ workflows, secrets: ['sk_live'] }, 'c.ts')).toThrow(
      'c.ts is invalid: secrets: expected',
    );
    expect(() => validateConfig({ workflows, pools: { openai: { concurrency: 0 } } }, 'c.ts')).toThrow(
      /^c\.ts is invalid: .*concurrency/,
    );
    expect(() => validateConfig({ workflows, maxDelegationDepth: -1 }, 'c.ts')).toThrow(
      'c.ts is invalid: maxDelegationDepth',
    );
    expect(() =>
      validateConfig(
        {
          workflows,
          policies: ['policies/*.cedar'],
          grant: { actions: ['tool:*'], ttl: '8h' },
          pools: { openai: { concurrency: 8 } },
        },
        'c.ts',
      ),
    ).not.toThrow();
  });
});
